"""`incision serve`: the HTTP service (settings from --config FILE, then flags)."""

from __future__ import annotations

import dataclasses
import logging

from ..errors import ConfigError

TABLES = (
    "probes",
    "policies",
    "edits",
    "named_edits",
    "vllm",
)  # in the config file; probes, policies also by flag


def add_serve(sub) -> None:
    from ..serve.config import ServeConfig
    from .options import add_dataclass_options

    p = sub.add_parser("serve", help="serve probes, scrubbing and monitored chat over HTTP (extra 'serve')")
    p.add_argument("--config", help="a .yaml, .toml or .json file of settings (flags override it)")
    p.add_argument("--probe", action="append", default=[], metavar="NAME=FOLDER", help="a probe to serve")
    p.add_argument(
        "--policy", action="append", default=[], metavar="NAME=ACTION[:THRESHOLD]",
        help="a policy: flag, redact, block (steer needs a config file)",
    )  # fmt: skip
    add_dataclass_options(p, ServeConfig, skip=TABLES)
    p.set_defaults(**{f.name: None for f in dataclasses.fields(ServeConfig) if f.name not in TABLES})
    p.set_defaults(run=run_serve)


def run_serve(args) -> None:
    try:
        import uvicorn

        from ..serve import ServeConfig, create_app, read_config_file
    except ImportError as e:
        raise ConfigError(
            f"incision serve needs the 'serve' extra: pip install 'incision[serve]' ({e.name} is missing)"
        ) from None
    settings = read_config_file(args.config) if args.config else {}
    flags = {f.name: getattr(args, f.name) for f in dataclasses.fields(ServeConfig) if f.name not in TABLES}
    settings.update({k: v for k, v in flags.items() if v is not None})
    settings["probes"] = {**settings.get("probes", {}), **dict(_pair(p, "--probe") for p in args.probe)}
    settings["policies"] = {**settings.get("policies", {}), **dict(_policy(p) for p in args.policy)}
    config = ServeConfig(**settings)
    logging.getLogger("incision.serve").setLevel(logging.INFO)
    if not config.api_keys():
        logging.getLogger("incision.serve").warning(
            "no API keys in $%s or --api-keys-file: anyone who reaches %s:%d can call the service",
            config.api_keys_env, config.host, config.port,
        )  # fmt: skip
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        access_log=False,  # its lines carry query strings; the service logs its own, without them
        timeout_graceful_shutdown=config.drain_timeout_s,
        log_level="info",
    )


def _pair(text: str, flag: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise ConfigError(f"{flag} takes NAME=VALUE, got {text!r}")
    return name, value


def _policy(text: str) -> tuple[str, dict]:
    name, spec = _pair(text, "--policy")
    action, _, threshold = spec.partition(":")
    try:
        return name, {"action": action, **({"threshold": float(threshold)} if threshold else {})}
    except ValueError:
        raise ConfigError(f"--policy threshold must be a number, got {threshold!r}") from None
