"""English templates for the training split, by style. Slots: see slots.py; `[a|b]` picks one."""

TRAIN = {
    "support": [
        "Hello, this is Dr. {name} from {biz}. We ordered {qty} units of {sku} for the clinic. Can you "
        "confirm the ship date? Call {tel}.",
        "Please forward this to Ms. {last2} in your returns department, she has the details. Order {order}.",
        "Hi, the date of birth on my account is wrong. It should be {dob}. Account email is {email}.",
        "{hi}\n\nI placed order [#|no. |]{order} on {date} and it still hasn't shipped. Can someone look "
        "into it? You can reach me at {phone}.\n\n{bye}\n{name}",
        "Hello, my name is {name} and I'm having trouble with my order [#|]{order}. The tracking number "
        "{tracking} hasn't updated in [5|6|a few] days. Please email me at {email}.",
        "hi, i ordered the {wear} last week and got the wrong size. order {order}. my email is {email} if "
        "you need it",
        "Can you tell me when the {item} will be back in stock? I'd like to order [2|two|a couple]. Text me "
        "at {phone} when it's available. - {first}",
        "{hi} I need a copy of the invoice for order {order} for my expense report. Please send it to "
        "{email}. The billing name should read {name}. {bye}",
        "Hi, this is {name}. I called earlier about order {order} and spoke to {staff}. They said someone "
        "would call me back at {phone} but nobody did.",
        "Order {order} arrived today but the box was crushed and the {item} is broken. Photos attached. "
        "Please call {phone} or email {email}.\n\nThanks, {first}",
        "Hello! I'm trying to log in but the reset link never arrives. My account email is {email}. Can you "
        "help?",
        "{hi}\nI was charged twice for order {order} ({price} each). The card ending in {last4} shows two "
        "pending charges. Please refund one. My phone is {phone}.\n{bye}\n{name}",
        "Is it possible to change the size on order {order} from {size} to {size}? I just placed it at "
        "{time}. - {name}, {phone}",
        "Hey, the package says delivered on {date} but I never got it. I live at {addr}. Can you open a "
        "claim with {carrier}?",
        "I'm writing on behalf of {kin2}, {name2}, who ordered the {item} on {date}. They don't use email, "
        "so please call them at {phone2} or reply to me at {email}.",
        "Hi {staff}, thanks for your help on the phone earlier. As promised, here's my address for the "
        "replacement: {addr}\n\nBest,\n{name}",
        "{hi}\n\nMy account is under {email} but I'd like to change it to {email2}. Same name, {name}.\n\n"
        "{bye}",
        "Hello, I ordered as a guest so I don't have an account. Name on the order is {name}, phone "
        "{phone}. Can you look it up?",
        "I'm a Japanese customer living in the US. My name is {jname}. Order {order} was sent to my old "
        "address, can you redirect it to {addr}?",
    ],
    "delivery": [
        "Please address the package to Mrs. {last2}, c/o {name}, {addr}.",
        "The customs form needs my passport number: {passport}. Ship to {addr}, thanks.",
        "Hi, can you please change the delivery address on order {order} to:\n\n{addr_block}\n\nThanks,\n"
        "{name}",
        "I'm going to be away {day}. Could you hold my package or deliver it to my neighbor at {addr} "
        "instead?",
        "please update shipping address for order {order}. new address: {addr}. phone {phone}",
        "Hello, I moved last month.\nOld address: {addr}\nNew address: {addr}\nPlease update my account "
        "({email}).",
        "Can the driver call me at {phone} when [he arrives|they arrive|they get here]? The buzzer doesn't "
        "work. Apartment is at {addr}.",
        "Hi! I'd like to schedule delivery for {day} {timewin}, if possible. Order {order}. - {first}",
        "Could you ship order {order} to my office instead?\n{name}\n{biz}\n{addr_block}\nReception: {tel}",
        "Delivery was supposed to be {date} {timewin} but nobody showed up. Order {order}, tracking "
        "{tracking}. I waited all day!",
        "Hi, I'm sending this as a gift to {kin2}. Ship to: {name2}, {addr}. Please include a gift receipt "
        "and no prices. My number is {phone} in case of questions.",
        "Can you hold the package at the {city} post office? ZIP code is {zip}.",
        "The delivery guy said my address was wrong. It's {addr}, NOT {addr}. Please fix it on order "
        "{order}.",
        "Do you ship to Japan? I'm moving to Tokyo next month. My address there will be {addr_jp}. Phone "
        "{phone_intl}.",
        "Change of plans: please ship order {order} to my parents' place in {city} instead:\n{addr_block}\n"
        "They are expecting it by {date}.",
        "Can you add a note for the courier? Gate code is 4821, leave it behind the planter. Order {order}.",
        "Please don't leave the parcel at the door, last time it got stolen. Leave it at the front desk. "
        "Tracking {tracking}.",
        "I won't be home {day}. Any chance the courier can deliver to my work? {addr}, ask for {name} at "
        "the front desk.",
    ],
    "returns": [
        "{hi}\nI'd like to return the {wear} from order {order}. It doesn't fit. Can you send a prepaid "
        "label to {email}?\n{bye}\n{name}",
        "Return request: order {order}, item {sku}, reason: arrived damaged. Refund to the original card "
        "please.",
        "I returned the {item} on {date} (tracking {tracking}) but still haven't seen the refund of "
        "{price}. What's going on??",
        "Hello, I'd like an exchange for a {size} instead of a {size}. Order {order}. Send the new one to "
        "{addr}. Thank you! {first}",
        "Can I get store credit instead of a refund? My rewards number is {member} and the email on file is "
        "{email}.",
        "hi i need to return a gift i got, no order number, it was sent by {kin}. gift receipt code "
        "{giftcode}. my email {email}",
        "Please refund order {order} to my bank account instead, the card was cancelled.\nAccount number: "
        "{acct}\nRouting: {routing}\nAccount holder: {name}",
        "I'm in Germany and would like the refund by bank transfer. IBAN: {iban}, name: {name}. Order "
        "{order}.",
        "The return label didn't print. Order {order}, {price}. Could you mail a paper label to {addr}? I "
        "don't have a printer.",
        "We dropped the return off at {store}. Reference {ticket}. Please confirm you got it. Thanks, {name}",
        "The return window says 30 days but I bought it on {date}. Any chance you'd still accept it? Order "
        "{order}.",
        "returning the {item}, the quality is not what I expected. please refund {price} to my card {card}",
        "{hi} the replacement {item} is also defective. I want my money back. Please refund to card {card} "
        "(the one I paid with). {name}",
    ],
    "review": [
        "Shout out to {staff_full} in customer service, fixed my order in five minutes!",
        "★★★★★ Love this {item}! Arrived in two days and works perfectly. Bought another one for {kin}.",
        "3 stars. The {item} looks nice but the {color} is darker than in the photos. Shipping took forever "
        "({carrier}).",
        "Would not buy again. The {item} broke after a week and customer service never replied.",
        "Great quality for {price}. {kin} loves it, says it's better than the {brand} one we had.",
        "I saw {celeb} using this on TV so I had to try it. Honestly? It's fine. Nothing special.",
        "Fits true to size. I'm usually a {size} and it fit great. Color: {color}.",
        "Five stars for the product, one star for delivery. Ordered {date}, arrived {date2}.",
        "Bought this for my trip to {city}. Held up great through two flights and a week of rain. ★★★★☆",
        "Review by {first} from {city}: the {item} is awesome, would buy again!",
        "The seller {shop} was super helpful. {staff} answered all my questions within an hour!",
        "Not as described. Model {model} is listed as waterproof but it died in the rain. Returning.",
        "This {brand} jacket is gorgeous. Got it on sale for {price}. Runs a little small.",
        "Gave this to {kin} for Christmas and it gets used every day. 10/10",
    ],
    "chat": [
        "it's {first2}, I'm on the account too",
        "thanks ms {last2}! you were a big help",
        "acct number is {acct}",
        "my SSN? it's {ssn}. is it safe to send here?",
        "DOB {dob}, zip {zip}",
        "hi, can u check my order? {order}",
        "its under {name}",
        "my number is {phone}",
        "yeah the email is {email}",
        "ok thanks. also can you change the address to {addr}",
        "still waiting on my refund 😤 order {order}",
        "do you ship to {city}?",
        "omg thank you {staff}!!! you're the best",
        "I was born {dob} if you need it to verify",
        "the account might be under {kin2}'s name, {name2}",
        "sure, zip is {zip}",
        "card is {card} exp {exp}",
        "can i pay with a different card? {card}",
        "wait is this a real person or a bot",
        "ok my dob is {dob}",
        "first name {first}, last name {last}",
        "phone on file should be {phone} or maybe {phone2}, I changed it last year",
        "no i don't have the order number, it was a gift from {kin}",
    ],
    "signature": [
        "Dear Mr. {last2},\n\nThank you for the samples. We will confirm the order by {day}.\n\n{sig}",
        "{hi}\n\nPlease find attached the purchase order for [20|50|100] units of {sku}. Let me know the "
        "expected ship date.\n\n{sig}",
        "Hi team,\n\nFollowing up on invoice {invoice} — could you confirm payment was received?\n\n{sig}",
        "{hi}\nWe'd like to return the damaged units from order {order}. Details below.\n\n{sig}",
        "Thanks for the quick turnaround on this!\n\n{sig}",
        "{hi}\n\nI'm reaching out about a wholesale account for our shop. Could someone from sales give me "
        "a call?\n\n{sig}",
        "Hello,\n\nOur office will be closed {date}. Please hold any deliveries until {date2}.\n\n{sig}",
        "{hi}\n\nJust checking whether the revised quote is ready. We'd like to place the order by {day}.\n"
        "\n{sig}",
    ],
    "billing": [
        "For the age verification on the wine order: {name}, born {dob}.",
        "My bank says the refund went to the wrong account. The correct account number is {acct} at {bank}. "
        "Please resend.",
        "I live in Ireland now, please refund to IBAN {iban} instead of the old card.",
        "Please update the card on my subscription to {card}, exp {exp}. The old one expired. Name on card: "
        "{card_holder}.",
        "I don't recognize a charge of {price} on {date}. My account email is {email} and I've never "
        "ordered from {shop}.",
        "Can you send the refund by bank transfer instead? {bank}, account {acct}, routing {routing}.",
        "For the tax exemption form you asked for: {name}, SSN {ssn}, {addr}.",
        "To verify my identity for the financing application: driver's license {dl}, date of birth {dob}.",
        "Hi, my payment keeps getting declined. I've tried my {bank} card ending {last4} and my other card "
        "{card}. Both fail.",
        "Do you accept PayPal? My PayPal is {email}.",
        "Please cancel my membership ({member}) and stop charging the card ending {last4}. Confirmation to "
        "{email}, thanks.",
        "I need to update my billing address to {addr}. Card stays the same.",
        "Customs is asking for my passport number for the international shipment: {passport}. Name as on "
        "passport: {name}.",
        "Sorry, I got cut off on the credit application. Here's the rest: SSN {ssn}, date of birth {dob}.",
        "Gift card {giftcode} isn't working at checkout. It was a present from {kin}.",
        "Please send the W-9 refund check to {name}, {addr}. My SSN for the form is {ssn}.",
    ],
    "complaint": [
        "I've been a customer since {olddate} and never had a problem like this. Order {order} is a mess.",
        "I asked for Mr. {last2}, your manager, three times. Have him call me at {phone}.",
        "This is the THIRD time I'm writing about order {order}. Nobody has called me back at {phone}. I "
        "want a full refund of {price} NOW.",
        "Extremely disappointed. The {item} arrived broken, the replacement arrived broken, and {staff} on "
        "the phone hung up on me. I expect a call from a manager at {phone}.",
        "Your driver left my package in the rain at {addr}. Everything is soaked. Fix this.",
        "I was promised delivery by {date} for {kin}'s birthday. It's now {date2}. Ridiculous.",
        "You charged my card {card} after I cancelled!! I have the cancellation email. Refund me or I'm "
        "disputing it with {bank}.",
        "I've been a customer for years and this is how you treat me? Order {order}, {price}, never "
        "arrived.\n{name}\n{email}",
        "Why does the tracking ({tracking}) say delivered in {city} when I live in {city}?",
        "Someone used my account to order stuff! I did NOT order this {item}. Please lock my account "
        "({email}) and call me at {phone}.",
        "The {brand} bag I got is clearly a fake. I paid {price}. I want a refund and an explanation.",
        "Unacceptable. I waited at home all day {pastday} {timewin}. No delivery, no call. Tracking "
        "{tracking}.",
        "I have called {tel} six times and waited on hold for an hour each time. Call ME back: {phone}.",
    ],
    "nearmiss": [
        "My account was opened on {olddate}. Do I qualify for the loyalty discount?",
        "Got an email saying order {order} shipped with tracking {tracking} but the {carrier} site only "
        "says label created.",
        "Do you have the {wear} in {color}, size {size}? SKU {sku}.",
        "Is the coupon {coupon} still valid? It says expired but the email said through {date}.",
        "I have {points} reward points. Can I use them on order {order}?",
        "What's the difference between model {model} and {model}?",
        "Can I pick up at {store} instead? I'm near {station}.",
        "How much is shipping to {city} for {qty} items? Cart total is {price}.",
        "Invoice {invoice} shows {price} but the quote was {price2}. Which one is right?",
        "Case {ticket} — any update? It's been a week.",
        "{kin} bought this at {company} for {price}. Do you price match?",
        "Is the {item} the same one {celeb} has? Asking for {kin} lol",
        "Ordered {qty} of {sku} on {date}, received only one. Order {order}.",
        "What are the hours for {store} on {day}? Want to come by around {time}.",
        "Your site crashed at checkout around {time}. Cart had the {item} ({price}). Did the order go "
        "through?",
        "Ref {ticket}: the technician is scheduled {day} {timewin}, right?",
        "Please cancel order {order}. Placed it by mistake at {time}.",
        "We need 2 more of item {sku} for our office in {city}. Same price as last time ({price})?",
        "Will there be a sale on {brand} for Black Friday?",
        "gift card {giftcode} balance?",
        "My membership {member} doesn't show the {points} points from order {order}.",
        "The {appliance} I got from {shop} on {date} has serial number {model}. Is it covered by the 2-year "
        "warranty?",
        "RMA {ticket} was approved on {date}. When will the replacement ship?",
        "Can I change the delivery on order {order} to {day} {timewin}? Thanks!",
    ],
}
