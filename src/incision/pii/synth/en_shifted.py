"""English templates for the style-shifted split: styles training never sees (texts, call notes,
forwarded threads, chat transcripts, marketplace messages, exports), to measure transfer."""

SHIFTED = {
    "sms": [
        "is {store} open {day}?",
        "order {order} cancel pls",
        "hey its {first} re order {order} can u call me {phone}",
        "pls send to {addr} not the old one thx",
        "my email changed → {email}",
        "where is my stuff?? tracking {tracking}",
        "running late for pickup at {store}, be there by {time}",
        "this is {name}, ur driver has my # {phone}",
        "need refund 2 card {card} asap",
        "ok sent pic. dob {dob} for the age check",
        "ty!!! got it",
        "addr for the exchange:\n{addr_block}",
        "{first} here. new # is {phone}, old one {phone2} is dead",
        "k whats ur return policy on the {item}",
        "can u leave it w/ {kin} if im not home",
        "reply STOP? no. i want my {price} back. {name}",
    ],
    "callnotes": [
        "Cust {name} called re: missing pkg, order {order}. Verified DOB {dob}. Opened claim w/ {carrier}. "
        "CB# {phone}.",
        "Caller: {name} | Issue: double charge {price} | Card: {card} | Resolution: refund issued, ref "
        "{ticket}",
        "Spoke w/ {first} (family member of acct holder {name2}). Not authorized, asked acct holder to call "
        "from {phone2}.",
        "CX upset about late delivery. Offered {coupon}. No PII collected.",
        "Verified identity via SSN {ssn} and address on file ({addr}). Updated email to {email}.",
        "Callback requested {day} {timewin} at {tel}. Topic: bulk order for {biz}.",
        "Note: cust says neighbor at {addr} received the package. Tracking {tracking}.",
        "Escalated to tier 2. Cust passport {passport} needed for customs on intl order {order}.",
        "Cust asked about {item} restock; told {date}. No callback needed.",
        "Refund via ACH: acct {acct}, routing {routing}. Holder: {name}.",
        "VM left for {first} at {phone} on {date}. Will retry {day}.",
        "DL {dl} scanned for age-restricted order {order}; exp {date}. OK to ship.",
    ],
    "thread": [
        "Fwd: stock check\n\n{store} says they have {qty} left of {sku}. Can you hold one?",
        "---------- Forwarded message ---------\nFrom: {name} <{email}>\nDate: {date}\nSubject: Re: Order "
        "{order}\nTo: {email_biz}\n\nHi, any update on this? I still haven't received my refund.",
        "> On {date}, {name} <{email}> wrote:\n> Where is my order?\n\nHi {first}, your order shipped today "
        "with tracking {tracking}.\n{staff}\n{shop} Support",
        "From: {email}\nSent: {day}\nSubject: address correction\n\nPlease use {addr} for all future "
        "shipments.\n\n{sig_mobile}",
        "RE: RE: Invoice {invoice}\n\nAttached again. Our AP contact is {name2} ({email2}, {tel}).",
        "Original message:\n> Please call me at {phone}.\n\nWe tried twice and got voicemail; please "
        "suggest another time. Case {ticket}.",
        "FW: delivery complaint\n\n-----Original Message-----\nFrom: {name}\nSent: {date}\n\nThe box was "
        "open when it arrived and the {item} is missing. Call {phone}.",
        "Re: your return ({ticket})\n\n> what's the address for returns?\n\nIt's {addr}. Please include the "
        "slip.\n{staff}, {shop}",
    ],
    "chatlog": [
        "[{clock}] Bot: Your order {order} is out for delivery.\n[{clock}] You: thanks!",
        "[{clock}] Agent {staff}: Thanks for contacting {shop}! How can I help?\n[{clock}] Customer: hi my "
        "order {order} never came\n[{clock}] Agent {staff}: Sorry about that! Can I have the name on the "
        "order?\n[{clock}] Customer: {name}",
        "{staff} (Support): could you confirm your email?\nYou: {email}\n{staff} (Support): and the phone "
        "number on file?\nYou: {phone}",
        "Customer: need to change address\nBot: Please enter the new address.\nCustomer: {addr}\nBot: "
        "Thanks! Anything else?\nCustomer: no",
        "User: is the {wear} available in {color}?\nAssistant: Yes, sizes {size} to {size}.\nUser: ok thx",
        "Visitor: hello??\nAgent: Hi! Sorry for the wait.\nVisitor: my card got charged twice, {card}\n"
        "Agent: Please don't share full card numbers in chat!",
        "{clock} {first}: is the {item} back in stock\n{clock} Support: Not yet, expected {date}.\n{clock} "
        "{first}: ok email me at {email} when it is",
        "Agent: For security, please give your date of birth.\nCustomer: {dob}\nAgent: Thank you, {first}.",
    ],
    "marketplace": [
        "Hi! Is this still available? I can pick up near {station} {day}. Text me {phone}.",
        "Payment sent! Please ship to {name}, {addr}.",
        "Sorry for the delay, shipped today with {carrier}, tracking {tracking}. Please leave feedback!",
        "Would you take {price} for it? I'm in {city}.",
        "Buyer here: the item arrived but it's not as pictured. Can we sort this out before I open a case? "
        "Email {email}.",
        "Venmo me at {phone} or Zelle to {email}.",
        "Seller: pickup address is {addr}, ring {first}'s bell. Cash only please.",
        "is the {brand} bag authentic? do you have the receipt from {company}?",
    ],
    "export": [
        "{date} {clock} INFO refund issued order={order} amount={price}",
        "ticket_id={ticket}; customer={name}; email={email}; phone={phone}; issue=late delivery",
        "order,{order},{name},{addr},{price}",
        "ship_to: {name} / {addr} / {phone}",
        "{date} {clock} ERROR payment declined for card {card} (order {order})",
        "status=delivered carrier={carrier} tracking={tracking} eta={date}",
        'customer_note: "please call {phone} before delivery, dog in yard"',
    ],
}
