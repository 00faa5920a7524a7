"""`incision sae inspect`: an HTML dashboard of chosen SAE features over a store (registered under `sae`)."""

from __future__ import annotations

SEARCH_FEATURES = 10  # features picked by --search when --top is not given


def add_inspect(actions) -> None:
    p = actions.add_parser("inspect", help="write an HTML dashboard of chosen SAE features over a store")
    p.add_argument("--sae", required=True, help="SAE folder (SAELens layout, as `incision sae train` writes)")
    p.add_argument("--store", required=True, help="store folder written by `incision capture`")
    p.add_argument("--site", default=None, help="the store's site the SAE reads (default: the SAE's own)")
    p.add_argument("--features", default=None, help="comma-separated feature ids, e.g. 1,5,9")
    p.add_argument(
        "--top",
        type=int,
        default=None,
        help="the N features that fire on most store tokens (with --search: the N most active on the text)",
    )
    p.add_argument("--search", default=None, help="pick the features most active on this example text")
    p.add_argument("--k", type=int, default=20, help="top-activating contexts per feature")
    p.add_argument("--context", type=int, default=8, help="tokens shown either side of each activation")
    p.add_argument(
        "--model",
        default=None,
        help="model for promoted tokens and --search (default: the store's model)",
    )
    p.add_argument(
        "--no-promoted",
        dest="promoted",
        action="store_false",
        help="skip the promoted tokens (the model is then loaded only for --search or a store without text)",
    )
    p.add_argument("--batch-tokens", type=int, default=4096, help="store rows encoded at a time")
    p.add_argument("--out", required=True, help="HTML file to write")
    p.set_defaults(run=run_inspect)


def run_inspect(args) -> None:
    from ..core.store import ActivationStore
    from ..errors import ConfigError
    from ..sae import load
    from ..sae.config import check_width
    from ..sae.dashboard import write_dashboard
    from ..sae.inspection import (
        activation_histogram,
        firing_counts,
        most_frequent,
        promoted_tokens,
        search_features,
        top_activations,
    )

    if args.features is not None and (args.top is not None or args.search is not None):
        raise ConfigError("give either --features IDS or --top N / --search TEXT, not both")
    if args.features is None and args.top is None and args.search is None:
        raise ConfigError("choose features with --features IDS, --top N or --search TEXT")
    sae = load(args.sae)
    store = ActivationStore.open(args.store)
    site = args.site or sae.meta.get("site")
    if not site:
        raise ConfigError(f"SAE {args.sae!r} records no site; pass the store's site with --site")
    # an unknown site fails here, listing the store's sites
    check_width(sae, store.width(site), f"site {site!r} of store {args.store!r}")
    has_text = "text" in store.documents.column_names
    needs_model = args.promoted or args.search is not None or not has_text
    subject = _subject(args, store) if needs_model else None
    if args.features is not None:
        features = _parse_features(args.features, sae.cfg.d_sae)
    elif args.search is not None:
        n = _count(args.top, sae.cfg.d_sae) if args.top is not None else min(SEARCH_FEATURES, sae.cfg.d_sae)
        features = [m.feature for m in search_features(sae, subject, site, args.search, k=n)]
    else:
        counts = firing_counts(sae, store, site, args.batch_tokens)
        features = most_frequent(counts, _count(args.top, sae.cfg.d_sae))
    tokenizer = subject.tokenizer if subject is not None else None
    top = top_activations(sae, store, site, features, args.k, args.context, args.batch_tokens, tokenizer)
    histograms = activation_histogram(sae, store, site, features, batch_tokens=args.batch_tokens)
    promoted = promoted_tokens(sae, subject, features) if args.promoted else None
    title = f"SAE {args.sae} on {site} of {args.store}"
    path = write_dashboard(args.out, top, histograms, promoted, title=title)
    print(f"dashboard of {len(features)} features ({_ids(features)}) written to {path}")


def _subject(args, store):
    from .. import load
    from ..errors import ConfigError

    subject = load(args.model or store.model["name"])
    sha = store.manifest["settings"]["model"]["config_sha256"]
    if subject.config_sha256 != sha:
        raise ConfigError(
            f"model {subject.name!r} is not the one store {args.store!r} was captured from "
            f"({store.model['name']!r}); pass that model with --model"
        )
    return subject


def _parse_features(text: str, d_sae: int) -> list[int]:
    from ..errors import ConfigError

    features = []
    for part in (p.strip() for p in text.split(",")):
        if not part.isdigit():
            raise ConfigError(f"--features takes comma-separated feature ids, got {part!r} in {text!r}")
        if int(part) >= d_sae:
            raise ConfigError(f"feature {part} is not in the SAE, whose ids run from 0 to {d_sae - 1}")
        features.append(int(part))
    return list(dict.fromkeys(features))


def _count(n: int, d_sae: int) -> int:
    from ..errors import ConfigError

    if not 1 <= n <= d_sae:
        raise ConfigError(f"--top must be between 1 and the SAE's {d_sae} features, got {n}")
    return n


def _ids(features: list[int], shown: int = 10) -> str:
    more = f", ... ({len(features) - shown} more)" if len(features) > shown else ""
    return ", ".join(map(str, features[:shown])) + more
