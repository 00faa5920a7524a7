"""English reviews and customer messages: positive or negative.

Seven domains (electronics, clothing, kitchen appliances, delivery, customer support, restaurants, apps); a text
draws all its fillers from one domain so it stays coherent. Templates are label-neutral: the label comes
from the fillers, some of which are near misses (negation, "not bad at all", praise then a complaint).
"""

from __future__ import annotations

from . import Template as T
from . import cap, lc

LABELS = ("positive", "negative")
DOMAINS = ("electronics", "clothing", "kitchen", "delivery", "support", "restaurant", "app")
GOODS = ("electronics", "clothing", "kitchen")

TRAIN = [
    T("t01", "{thing:cap} {pred}."),
    T("t02", "{thing:cap} {pred}. {verdict}"),
    T("t03", "{verdict} {thing:cap} {pred}."),
    T("t04", "{fact} {verdict}"),
    T("t05", "{fact} {fact#2}"),
    T("t06", "Honestly, {thing} {pred}. {fact}"),
    T("t07", "{first} {fact} {verdict}"),
    T("t08", "Rating: {stars}/5. {thing:cap} {pred}."),
    T("t09", "Update: {thing} {pred}. {verdict}"),
    T("t10", "Hi, I'm writing about order {order}. {fact} {request}", domains=(*GOODS, "delivery")),
    T("t11", "{first} {thing:cap} {pred}."),
    T("t12", "Short version: {thing} {pred}. Long version: {fact} {fact#2}"),
    T("t13", "I've had {thing} for {duration} now. {fact}", domains=("electronics", "kitchen", "app")),
    T("t14", "What can I say? {fact} {verdict}"),
    T("t15", "{fact} Overall, {overall}."),
    T("t16", "Third time ordering from this shop. {fact} {verdict}", domains=(*GOODS, "delivery")),
    T("t17", "Writing this so others know what to expect: {thing} {pred}."),
    T("t18", "{thing:cap} {pred}. Also worth saying: {fact:lc}"),
    T("t19", "{fact} {fact#2} {fact#3}"),
    T("t20", "{first} Overall, {overall}."),
    T("t21", "Not going to write an essay: {thing} {pred}."),
    T("t22", "{verdict} {fact}"),
    T("t23", "To the {company} team: {fact:lc} {request}", domains=(*GOODS, "delivery", "support")),
    T("t24", "Gave it {duration} before reviewing. {fact} {fact#2}", domains=(*GOODS, "app")),
    T("t25", "For anyone on the fence: {thing} {pred}. {verdict}"),
    T("t26", "About {thing}: {fact:lc} {verdict}"),
    T("t27", "{stars_line} {fact}"),
    T("t28", "Leaving a review because {thing} {pred}."),
    T(
        "t29",
        "My {rel} talked me into trying {thing}. {fact} {verdict}",
        domains=(*GOODS, "restaurant", "app"),
    ),
    T("t30", "Just a heads-up: {fact:lc}"),
]

HELDOUT = [
    T("h01", "Thinking about {thing}? Here's my take: it {pred}.", domains=(*GOODS, "restaurant", "app")),
    T("h02", "{fact} That's really all you need to know."),
    T("h03", "Long-time customer here. {fact} {fact#2}"),
    T(
        "h04",
        "Posting this so the company sees it. {fact} {request}",
        domains=(*GOODS, "delivery", "support"),
    ),
    T("h05", "In short, {thing} {pred}."),
    T("h06", "{verdict} Why? {fact} {fact#2}"),
    T("h07", "Second review, a month later: {thing} {pred}."),
    T("h08", "Real talk: {fact:lc} {verdict}"),
    T("h09", "If a friend asked me about {thing}, I'd tell them it {pred}."),
    T("h10", "{first} Here's how it went. {fact} {overall:cap}."),
]

# fmt: off
SLOTS = {
    "order": ["#48213", "#51907", "#30662", "#77154", "#62048", "#19385", "#84520", "#27731"],
    "company": ["BrightCart", "Parcelpoint", "Hollis & Grey", "Nordlys Home", "Quickship"],
    "rel": ["partner", "sister", "roommate", "coworker", "best friend", "dad"],
    "duration": ["two weeks", "a month", "three months", "about six months", "a whole year"],
    "stars.positive": ["5", "5", "4"],
    "stars.negative": ["1", "1", "2"],
    "stars_line.positive": [
        "Five stars.", "Five stars, easily.", "Four stars, only because nothing is perfect.",
    ],
    "stars_line.negative": ["One star.", "One star, and that's generous.", "Two stars."],
    "request.positive": [
        "Just wanted to say thank you!", "Please pass my thanks on to the team.", "Keep up the great work.",
        "No action needed, I just wanted to say thanks.",
    ],
    "request.negative": [
        "Please refund me as soon as possible.", "I'd like a replacement or a full refund.",
        "Can someone please sort this out?", "I expect a reply within 48 hours.",
    ],
    "overall.positive": [
        "a great experience", "really happy with it", "better than I hoped", "money well spent",
        "no regrets at all",
    ],
    "overall.negative": [
        "a real disappointment", "not worth the money", "a waste of time", "worse than I feared",
        "I regret it",
    ],
    "verdict.positive": [
        "Highly recommend.", "Five stars from me.", "Really pleased.", "No complaints at all.",
        "Can't fault it.", "Couldn't be happier.", "Definitely worth it.", "Ten out of ten.",
    ],
    "verdict.negative": [
        "Avoid.", "Really disappointed.", "Not recommended.", "Save your money.", "What a letdown.",
        "I can't recommend it.", "Not impressed at all.", "Never again.",
    ],
    "verdict.positive.heldout": ["Worth every penny.", "Absolutely delighted.", "A genuine gem."],
    "verdict.negative.heldout": ["Total waste of money.", "Deeply unimpressed.", "Steer clear."],
    # electronics
    "thing.electronics": [
        "this Bluetooth speaker", "the new laptop", "this pair of wireless earbuds",
        "the smartwatch I bought", "this e-reader", "the gaming mouse", "this robot vacuum",
        "the wireless keyboard", "this tablet",
    ],
    "thing.electronics.heldout": ["the noise-cancelling headset", "this portable projector"],
    "first.electronics": [
        "Bought this as a treat for myself.", "Picked this up during the spring sale.",
        "Needed a replacement after my old one died.",
    ],
    "pred.electronics.positive": [
        "works perfectly and the battery lasts ages", "was up and running in minutes",
        "performs far better than I expected for the price", "has been flawless since day one",
        "is fast, quiet and easy to set up", "is not bad at all for the price",
        "does exactly what it says on the box", "charges quickly and never gets hot",
    ],
    "pred.electronics.negative": [
        "started failing after two weeks", "keeps disconnecting every few minutes", "barely holds a charge after a month",
        "gets uncomfortably hot after ten minutes", "is not worth half of what I paid",
        "looked great in the photos but feels cheap in the hand", "arrived scratched and dented",
        "never worked properly, not even once",
    ],
    "pred.electronics.positive.heldout": [
        "has survived two drops without a scratch", "just works, every time",
    ],
    "pred.electronics.negative.heldout": [
        "freezes whenever I use it for more than an hour", "started buzzing loudly after a week",
    ],
    "fact.electronics.positive": [
        "Setup took less than five minutes.", "The battery easily lasts a full day of heavy use.",
        "It does everything the listing promised.", "It feels solid and well made.",
        "I was worried about the cheap price, but it works flawlessly.", "It feels premium for the price.",
        "It hasn't crashed or lagged once.", "The instructions were clear and the app is easy to use.",
    ],
    "fact.electronics.negative": [
        "The battery is dead by lunchtime.", "It overheats and shuts itself off.",
        "The buttons stopped responding after a few days.", "It randomly restarts itself.",
        "It looks nice, but it disconnects constantly.", "It makes a strange buzzing noise.",
        "The charging port was loose right out of the box.",
        "Half the features in the listing simply don't work.",
    ],
    "fact.electronics.positive.heldout": ["Even my tech-averse dad figured it out on his own."],
    "fact.electronics.negative.heldout": ["The replacement unit had exactly the same fault."],
    # clothing
    "thing.clothing": [
        "this rain jacket", "the wool sweater", "this hoodie", "the linen shirt", "this dress",
        "the winter coat", "this cardigan", "the denim jacket",
    ],
    "thing.clothing.heldout": ["this blazer", "the flannel shirt"],
    "first.clothing": [
        "Ordered this in my usual size.", "Bought this for a trip abroad.",
        "Got this as a birthday present from myself.",
    ],
    "pred.clothing.positive": [
        "fits perfectly and the fabric feels great", "is soft, comfortable and really well made",
        "still looks new after a dozen washes", "was comfortable from the first day",
        "runs true to size and looks even better in person",
        "isn't cheap, but the quality is worth every penny",
    ],
    "pred.clothing.negative": [
        "shrank two sizes after one wash", "started coming apart at the seams within a week",
        "looks nothing like the photos", "feels scratchy and thin", "runs so small I couldn't even get it on",
        "lost its colour after the first wash", "smells of chemicals even after washing",
        "is much thinner than the description claims",
    ],
    "pred.clothing.positive.heldout": ["gets compliments every time I wear it"],
    "pred.clothing.negative.heldout": ["ripped the second time I wore it"],
    "fact.clothing.positive": [
        "The stitching is neat and even.", "The colour is exactly as pictured.",
        "It washes well and doesn't crease.", "The sizing chart was spot on.",
        "I wasn't sure about the colour at first, but I love it now.", "It's light and hangs nicely.",
        "The fabric is soft and breathable.",
    ],
    "fact.clothing.negative": [
        "A button came off the first time I wore it.", "The fabric pilled after two wears.",
        "The colour ran and stained my other clothes.", "The sizing chart was completely wrong.",
        "It looked fine at first, but the seams split within days.",
        "It's far thinner than the photos suggest.", "Threads were hanging off it when it arrived.",
    ],
    "fact.clothing.positive.heldout": ["I've already ordered a second one in another colour."],
    "fact.clothing.negative.heldout": ["The hem came undone after one wash."],
    # kitchen appliances
    "thing.kitchen": [
        "this kettle", "the air fryer", "this toaster", "the blender", "this slow cooker",
        "the coffee machine", "this juicer", "the coffee grinder",
    ],
    "thing.kitchen.heldout": ["this rice cooker", "the hand mixer"],
    "first.kitchen": [
        "Bought this when we moved into our new flat.", "Replaced our old one with this last month.",
        "Ordered this after reading a lot of reviews.",
    ],
    "pred.kitchen.positive": [
        "is quick, quiet and easy to clean", "does the job quietly and well",
        "was easy to set up and feels solid", "has made my mornings so much easier",
        "is nothing fancy, but it works really well", "still works like new after a year of daily use",
        "looks lovely on the counter and does everything I need",
    ],
    "pred.kitchen.negative": [
        "started acting up the second time I used it", "is so loud I can't use it early in the morning",
        "came with a missing part and no instructions", "rattles so much it shakes the whole counter",
        "started rusting within a month", "started failing just after the warranty ran out",
        "isn't nearly as sturdy as it looks",
    ],
    "pred.kitchen.positive.heldout": ["has earned a permanent spot on my counter"],
    "pred.kitchen.negative.heldout": ["trips the fuse every single time I use it"],
    "fact.kitchen.positive": [
        "It was ready to use straight out of the box.", "Cleaning it takes seconds.",
        "It's sturdier than I expected for the price.", "It's quiet enough to use while the baby sleeps.",
        "I didn't expect much, but it has been brilliant.", "The build quality is excellent.",
        "It saves me so much time every day.",
    ],
    "fact.kitchen.negative": [
        "A part was missing from the box.", "The handle came loose within a week.",
        "It smells of burning plastic every time I switch it on.",
        "The coating started peeling after a few uses.", "It looks stylish, but it feels flimsy.",
        "The instructions were impossible to follow.", "The lid cracked the first time it got hot.",
    ],
    "fact.kitchen.positive.heldout": ["It's the best thing I've bought for the kitchen in years."],
    "fact.kitchen.negative.heldout": ["The lid doesn't even close properly."],
    # delivery
    "thing.delivery": ["my order", "the parcel", "the delivery", "my package", "the shipment"],
    "thing.delivery.heldout": ["my grocery order", "the furniture delivery"],
    "first.delivery": [
        "Ordered on Monday evening.", "Placed an order for a few gifts last week.",
        "This was my first order from this shop.",
    ],
    "pred.delivery.positive": [
        "arrived a day earlier than promised", "came well packed and in perfect condition",
        "showed up right on time", "was tracked every step of the way",
        "arrived the next morning, even over the holiday", "was left exactly where I asked",
    ],
    "pred.delivery.negative": [
        "arrived a week late with no explanation", "was left in the rain outside my door",
        "turned up with the box crushed", "was marked as delivered two days before it actually turned up",
        "got sent to the wrong address twice", "sat in transit for three weeks before it finally arrived",
    ],
    "pred.delivery.positive.heldout": ["beat the estimated date by three days"],
    "pred.delivery.negative.heldout": ["went back to the warehouse once before it finally reached me"],
    "fact.delivery.positive": [
        "The courier was friendly and careful with the box.", "Tracking updates came through all the way.",
        "Everything was wrapped carefully, with no damage at all.", "It even came with a handwritten thank-you note.",
        "I was nervous about the tight deadline, but it came in time.",
        "The packaging was minimal and recyclable.",
    ],
    "fact.delivery.negative": [
        "The box was soaked and the contents were ruined.", "Tracking showed 'out for delivery' for four days straight.",
        "The courier didn't even ring the bell.", "Half of the items were missing.",
        "They promised next-day delivery, but it took two weeks.", "The parcel was thrown over my fence.",
    ],
    "fact.delivery.positive.heldout": ["The driver even texted me a photo of where he left it."],
    "fact.delivery.negative.heldout": ["The driver left it with a neighbour I've never met."],
    # customer support
    "thing.support": [
        "customer service", "the support team", "the agent I spoke to", "their live chat", "the help desk",
    ],
    "thing.support.heldout": ["the returns department", "their phone line"],
    "first.support": [
        "Contacted them about a billing error.", "Had to get in touch about a missing item.",
        "Reached out after my account got locked.",
    ],
    "pred.support.positive": [
        "sorted out my problem in under ten minutes", "was patient, friendly and actually listened",
        "refunded me without any fuss", "followed up the next day to make sure everything was fine",
        "went above and beyond to fix my order", "didn't make me repeat myself once",
    ],
    "pred.support.negative": [
        "kept me on hold for over an hour", "took weeks to get back to me",
        "transferred me four times and nobody could help", "was rude and hung up on me",
        "promised a refund that never came", "just kept pasting the same script",
    ],
    "pred.support.positive.heldout": ["solved in one call what I'd been fighting with for weeks"],
    "pred.support.negative.heldout": ["closed my ticket without fixing anything"],
    "fact.support.positive": [
        "The agent apologised and fixed it straight away.", "I got a real person within two minutes.",
        "They refunded me the same day.", "They even sent a small discount code for the trouble.",
        "I expected a fight, but they sorted it immediately.", "Every email got a clear answer within hours.",
    ],
    "fact.support.negative": [
        "Their replies were copied straight from the FAQ.", "The chatbot just loops back to the start.",
        "I was promised a callback three times and never got one.", "The agent blamed me for their mistake.",
        "I explained the problem five times to five different people.",
        "They closed my complaint without reading it.",
    ],
    "fact.support.positive.heldout": ["Honestly the kindest support team I've ever dealt with."],
    "fact.support.negative.heldout": ["Their only answer was to read me the terms and conditions."],
    # restaurants
    "thing.restaurant": [
        "this ramen place", "the new Thai restaurant on Main Street", "this little café",
        "the pizza place near the station", "this burger joint", "the sushi bar downtown",
    ],
    "thing.restaurant.heldout": ["the taco truck by the park", "this bakery"],
    "first.restaurant": [
        "Went there for dinner with friends on Saturday.", "Stopped by for a quick lunch.",
        "Ordered takeaway from them on Friday night.",
    ],
    "pred.restaurant.positive": [
        "serves some of the best food I've had in years", "has friendly staff and generous portions",
        "is cosy, quiet and reasonably priced", "got our food out fast even on a busy Friday",
        "never disappoints", "has a small menu, but everything on it is excellent",
    ],
    "pred.restaurant.negative": [
        "served lukewarm food that tasted reheated", "made us wait an hour for our mains",
        "is overpriced for tiny portions", "had sticky tables and an unfriendly waiter",
        "got our order wrong twice", "used to be great but has really gone downhill",
    ],
    "pred.restaurant.positive.heldout": ["is worth the queue, every time"],
    "pred.restaurant.negative.heldout": ["charged us for dishes we never got"],
    "fact.restaurant.positive": [
        "The staff remembered us from last time.", "Every dish came out hot and beautifully plated.",
        "The portions were huge and the prices fair.", "Everything tasted fresh and perfectly seasoned.",
        "It looked plain from outside, but the food was fantastic.", "Service was quick and friendly.",
    ],
    "fact.restaurant.negative": [
        "My soup arrived cold and the bread was stale.", "We waited forty minutes just to order.",
        "The waiter ignored us for most of the evening.", "The bill had two dishes we didn't order.",
        "The place looks lovely, but the food was bland.", "I found a hair in my salad.",
    ],
    "fact.restaurant.positive.heldout": ["Even the house wine was a pleasant surprise."],
    "fact.restaurant.negative.heldout": ["The kitchen closed half an hour early without telling anyone."],
    # apps
    "thing.app": [
        "this budgeting app", "this to-do list app", "this language-learning app", "the banking app",
        "this photo editor", "the food delivery app", "this meditation app",
    ],
    "thing.app.heldout": ["the fitness tracker app", "this note-taking app"],
    "first.app": [
        "Downloaded this after a friend recommended it.", "Switched to this from a competitor.",
        "Tried the free trial first.",
    ],
    "pred.app.positive": [
        "is simple to use and hasn't crashed once", "runs smoothly even on my old phone",
        "has a clean design and no annoying ads", "syncs instantly across all my devices",
        "makes everyday tasks quicker", "is not perfect, but it's the best one I've tried",
    ],
    "pred.app.negative": [
        "crashes every time I open it", "drains my battery in a few hours", "logs me out constantly",
        "is full of ads that cover half the screen", "lost all my saved data", "keeps nagging me to pay",
    ],
    "pred.app.positive.heldout": ["made a boring chore almost fun"],
    "pred.app.negative.heldout": ["won't even load on my phone"],
    "fact.app.positive": [
        "Everything is where you'd expect it to be.", "It loads instantly and never freezes.",
        "The free version already does everything I need.",
        "Support replied within a day when I had a question.",
        "I was sceptical at first, but now I use it every day.", "Notifications are helpful, not spammy.",
    ],
    "fact.app.negative": [
        "It freezes every time I try to save.", "The new layout makes everything harder to find.",
        "It charged me twice for one subscription.", "Half the buttons don't respond.",
        "The idea is good, but it's painfully slow.", "It sends me notifications all day long.",
    ],
    "fact.app.positive.heldout": ["It even works offline, which is rare."],
    "fact.app.negative.heldout": ["Cancelling the subscription is deliberately hidden."],
    "verdict.restaurant.positive": ["We'll definitely be back."],
    "verdict.restaurant.negative": ["We won't be going back."],
    "verdict.app.positive": ["Worth the subscription."],
    "verdict.app.negative": ["Uninstalled."],
    "verdict.support.positive": ["That's how customer service should be."],
    "verdict.support.negative": ["Worst customer service I've dealt with."],
    "verdict.delivery.positive": ["Will order from them again."],
    "verdict.delivery.negative": ["I'll shop elsewhere next time."],
}
# fmt: on
for _domain in GOODS:
    SLOTS[f"verdict.{_domain}.positive"] = ["Would buy again."]
    SLOTS[f"verdict.{_domain}.negative"] = ["Returning it."]

TRANSFORMS = {"cap": cap, "lc": lc}
