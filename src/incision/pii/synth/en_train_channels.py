"""More English training styles, from other channels than a customer's e-mail: agent replies that name
the customer by first name, social-media messages to a brand, voicemail transcripts, and account and
identity requests with terse cue words (dob, cb#, DL, ss#). None of them is used by the shifted split."""

TRAIN = {
    "agent": [
        "Hi {first},\n\nThanks for reaching out! I've updated the shipping address on order {order} to "
        "{addr}. You'll get a new confirmation shortly.\n\n{staff}\n{shop} Customer Care",
        "Hello {name}, we received your return for order {order} on {date}. A refund of {price} will go "
        "back to the card ending in {last4} within 5-7 business days.",
        "Dear {first}, your repair visit is confirmed for {day} {timewin}. The technician, {staff}, will "
        "call {phone} about 30 minutes before arrival.",
        "Hi {first}! This is {staff} from {shop}. We tried to reach you at {phone} about order {order}. "
        "Please give us a call back when you can.",
        "Thank you, {first}. I've verified your account with your date of birth ({dob}). How can I help "
        "today?",
        "{first}, I'm so sorry about the delay. I've escalated case {ticket} and asked {carrier} to "
        "contact you at {phone}.",
        "Hi {first}, just confirming: refund to account {acct} at {bank}, holder {name}. Reply YES to "
        "proceed.",
        "Good news {first}, your replacement {item} shipped today. Tracking: {tracking}.\n\n- {staff_full}",
        "Hi {last} family, the {item} you ordered for {first2} is back in stock. Reply to this e-mail or "
        "call {tel} to reserve one.",
        "Hello Mr. {last}, we could not deliver to {addr} because the unit number was missing. Could you "
        "confirm it?",
        "Hi {first}, for security we can't take card numbers by e-mail. Please call {tel} to update the "
        "card ending {last4}.",
        "Thanks {first}! Your new e-mail {email} is saved, and we removed {email2} from your account.",
        "Hi, this is the {shop} team. Your order {order} ships {day}. Questions? Reply to this message.",
        "Hi there, thanks for your patience! Order {order} is now out for delivery with {carrier}.",
    ],
    "social": [
        "@{handle} my package has been out for delivery for 3 days now 🙄 order {order}",
        "@{handle} DM'd you my order number, pls check. email is {email}",
        "hey {handle} can someone call me?? {phone}. been on hold for an hour",
        "just sent you a DM. name on the order is {name}, ship to {addr}",
        "@{handle} i ordered the {item} for {kin} and you sent a {wear}?? order {order}",
        "@{handle} thx for the quick reply! my # is {phone}, text is fine",
        "Replying to @{handle}: it's {name}, order {order}. still nothing",
        "@{handle} third time asking. refund {price} to my card ending {last4}. {name}",
        "{first} here, sent you my address in DM: {addr}",
        "@{handle} love the {item}!! bought 2 more for {kin} 😍",
        "@{handle} any update on case {ticket}? DM me or email {email}",
        "@{handle} your app keeps crashing on the order page 🙄",
        "@{handle} ordered {date}, case {ticket}, still no tracking. fix it",
    ],
    "voicemail": [
        "Hi, this is {name} calling about my order, the number is {order}. Please call me back at {phone}. "
        "Again that's {phone}. Thanks, bye.",
        "hey it's {first} um I'm calling because the delivery guy couldn't find my building, it's {addr}. "
        "call me back at {phone} thanks",
        "Hi this message is for {staff}. It's {name} returning your call about the refund. You can reach "
        "me at {phone} [after 5|any time|until 6]. Thank you.",
        "Yes hello, my name is {name}, I placed an order on {date} and I have a question about the bill. "
        "My number is {phone}. Bye.",
        "[Voicemail transcript] Hi, {name} here, my callback number is {phone}, I need to change "
        "the delivery address on order {order}.",
        "Hello, I'm calling for {kin2}, {name2}, about the order on {date}. The new number to reach them is "
        "{phone2}.",
        "This is {name}, um, date of birth {dob}, calling to check on my age verification for the order.",
        "Hi it's {first}, my card number is, uh, {card}, you said to leave it on the message? Call me at "
        "{phone}.",
        "Voicemail: calling about case {ticket}, the {item} is still broken. Please call back.",
    ],
    "account": [
        "Please update my profile: phone from {phone} to {phone2}, and e-mail to {email}.",
        "can't log in. username is {email}, [dob|DOB|d.o.b.|birthday] {dob}, last four of my card {last4}",
        "Someone changed my password! My recovery number should be {phone}, not {phone2}.",
        "To verify: {name}, [DOB|dob|born] {dob}, [ZIP|zip|postcode] {zip}.",
        "[cell|mobile|ph|tel|cb#|my #|#] {phone}, [email|e-mail|mail] {email}",
        "[DL|DL#|lic #|license no.|drivers lic] {dl}, exp {exp}",
        "[ss#|SSN|social|ssn#|last SSN on file] {ssn}",
        "[passport|passport no.|pp #|passport number] {passport}, [dob|born] {dob}",
        "I'd like to close my account. Name {name}, e-mail {email}. Please delete my data.",
        "Please add {name2} ({kin2}) as an authorized user. Their [dob|birthday|DOB] is {dob}.",
        "The name on my account is misspelled. It should read {name}.",
        "Two-factor codes go to an old number. Please switch them to {phone}.",
        "For the credit check: {name}, {addr}, [SSN|ss#] {ssn}, [DOB|born] {dob}.",
        "Refunds should go to [acct|account|checking acct] {acct} [at|with] {bank} from now on.",
        "Can't log in. I reset the password at {time} but the code never came.",
        "Please close my account. I don't need the {member} membership anymore.",
        "Does my {points} point balance expire on {date}?",
    ],
}
