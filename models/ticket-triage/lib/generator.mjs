/**
 * Synthetic support tickets as a retail help desk receives them: a greeting, the request
 * (drawn from phrasings per category, with product, order and amount slots), sometimes a
 * second, off-topic sentence from another category, a sign-off; plus the channel and the
 * customer's tier. 3 % of labels are an agent's mistake, as in real triage data.
 *
 * `drift` in [0, 1] moves the world a release has not seen:
 * - inputs: more fraud and technical tickets, a new vocabulary (passkeys, BNPL, lockers,
 *   drones, SIM swaps) and a new channel (whatsapp);
 * - concept: the help desk re-routes work — refunds and damaged or missing parcels go to the
 *   returns team, locked accounts to fraud — so the same text gets a different label.
 */
import { Random, blend } from './prng.mjs';

/**
 * Phrasings per category. `to` marks a phrasing that drift re-routes to another team.
 * @type {Record<string, { text: string, to?: string }[]>}
 */
const PHRASES = {
  account: [
    { text: "I can't log in to my account, it says my password is wrong" },
    { text: 'how do I reset my password? the reset email never arrives' },
    { text: 'please change the email address on my account to {email}' },
    { text: 'I want to delete my account and all my personal data' },
    { text: 'my account is locked after too many login attempts', to: 'fraud' },
    { text: 'how can I update my phone number and address in my profile' },
    { text: 'I never received the verification code to sign in' },
    { text: 'please merge my two accounts, I have orders on both' },
    { text: 'can I change the username and the language of my profile' },
    { text: 'unsubscribe me from the newsletter and update my privacy settings' },
    { text: 'the account settings page does not save my new password' },
  ],
  billing: [
    { text: 'I was charged twice for order {order}' },
    { text: 'the invoice for order {order} shows {amount} but the total was {amount2}' },
    { text: 'my {card} was declined at checkout but the payment shows as pending' },
    { text: 'please send me a VAT invoice for my last purchase' },
    { text: 'why was I charged {amount} for shipping when I have free delivery', to: 'returns' },
    { text: 'the discount code did not apply and I paid the full price' },
    { text: 'I need a refund of the overcharge of {amount}', to: 'returns' },
    { text: 'can I pay in installments or change my payment method' },
    { text: 'my membership fee was billed although I cancelled last month' },
    { text: 'the price changed between the cart and the payment page' },
    { text: 'my bank statement shows {amount} but the receipt says {amount2}' },
  ],
  fraud: [
    { text: "there is a charge of {amount} on my {card} that I didn't make" },
    { text: 'someone logged in to my account and placed an order I did not place' },
    { text: 'I received an email asking for my password, is this phishing' },
    { text: "my account shows orders shipped to an address I don't know" },
    { text: 'unauthorized purchase of a {item} on my account, please block it' },
    { text: 'a seller asked me to pay outside the site, I think it is a scam' },
    { text: 'my card details were stolen after I shopped here' },
    { text: 'someone changed my account email without my permission' },
    { text: 'I got a fake text message about a prize from your company' },
  ],
  returns: [
    { text: "I want to return the {item} I bought, it doesn't fit" },
    { text: 'how do I print the return label for order {order}' },
    { text: "the {item} arrived damaged, I'd like a replacement or a refund" },
    { text: 'I sent the {item} back {days} days ago and still have no refund' },
    { text: 'can I exchange the {item} for a different size or colour' },
    { text: 'the return window closed yesterday, can I still send it back' },
    { text: 'the {item} is defective and stopped working after a week, I want to return it' },
    { text: 'where do I drop off my return parcel' },
    { text: 'the refund for my returned {item} was less than I paid' },
  ],
  shipping: [
    { text: "where is my order {order}? tracking hasn't updated in {days} days" },
    { text: 'my package was marked delivered but I never received it', to: 'returns' },
    { text: '{carrier} says the address is incomplete, please fix the delivery address' },
    { text: "when will my {item} ship? it's been {days} days" },
    { text: 'the parcel has been stuck in customs for {days} days' },
    { text: 'can I change the delivery date or have it left with a neighbour' },
    { text: "the tracking number for order {order} doesn't work on the {carrier} site" },
    { text: 'do you deliver abroad and how long does express shipping take' },
    { text: 'only part of my order arrived, the {item} is missing from the box', to: 'returns' },
    { text: 'the courier left my {item} outside in the rain', to: 'returns' },
  ],
  technical: [
    { text: '{app} crashes when I open my cart' },
    { text: "the checkout page keeps loading and I can't complete the order" },
    { text: 'I get error 500 when I upload a photo to my review' },
    { text: "the website is very slow and the images don't load" },
    { text: "the search doesn't return any results for {item}" },
    { text: 'push notifications stopped working after the update' },
    { text: "my {item} won't connect over bluetooth, the setup guide does not help" },
    { text: 'the promo banner covers the buy button on mobile' },
    { text: '{app} shows a blank screen on Safari' },
    { text: 'the wishlist button does nothing in {app}' },
  ],
};

/** Phrasings that only exist once the world has drifted: a vocabulary training never saw. */
const NEW_PHRASES = {
  account: [
    { text: "my passkey doesn't work on my new phone" },
    { text: 'two-factor codes still go to my old number' },
    { text: 'single sign-on with my Google login fails' },
    { text: "I can't link my loyalty wallet to my profile" },
  ],
  billing: [
    { text: 'the buy now pay later instalment was taken twice' },
    { text: 'my subscription renewed at the new price without notice' },
    { text: 'the Klarna plan shows a wrong balance of {amount}' },
    { text: 'my wallet top-up of {amount} is missing' },
  ],
  fraud: [
    { text: 'after a SIM swap someone got into my profile' },
    { text: 'a crypto giveaway using your brand asked for my seed phrase' },
    { text: 'my wallet balance was spent on gift cards overnight' },
    { text: "a deepfake call from 'support' asked for my one-time code" },
  ],
  returns: [
    { text: 'the locker drop-off QR code expired' },
    { text: "return by QR code at the kiosk didn't register" },
    { text: 'the trade-in for my old {item} was rejected' },
  ],
  shipping: [
    { text: 'the drone delivery slot was cancelled again' },
    { text: 'the parcel locker was full so the courier took my {item} back' },
    { text: 'the same-day courier never showed up' },
    { text: "my click and collect order isn't at the store" },
  ],
  technical: [
    { text: 'the AR try-on feature freezes on my phone' },
    { text: "the voice assistant can't add items to my basket" },
    { text: 'the new app version logs me out constantly' },
    { text: 'the smart home integration stopped syncing my {item}' },
  ],
};

const CATEGORY_MIX = { account: 0.15, billing: 0.2, fraud: 0.06, returns: 0.18, shipping: 0.26, technical: 0.15 };
const CATEGORY_MIX_DRIFTED = { account: 0.1, billing: 0.14, fraud: 0.24, returns: 0.1, shipping: 0.16, technical: 0.26 };

const CHANNEL_MIX = {
  account: { email: 0.35, chat: 0.3, phone: 0.1, web: 0.2, social: 0.05 },
  billing: { email: 0.45, chat: 0.2, phone: 0.2, web: 0.1, social: 0.05 },
  fraud: { email: 0.25, chat: 0.15, phone: 0.45, web: 0.1, social: 0.05 },
  returns: { email: 0.3, chat: 0.25, phone: 0.1, web: 0.3, social: 0.05 },
  shipping: { email: 0.3, chat: 0.3, phone: 0.15, web: 0.1, social: 0.15 },
  technical: { email: 0.15, chat: 0.4, phone: 0.05, web: 0.3, social: 0.1 },
};
const CHANNEL_SHIFT = { email: 0.15, chat: 0.25, phone: 0.05, web: 0.1, social: 0.2, whatsapp: 0.25 };
const TIER_MIX = { free: 0.5, standard: 0.35, premium: 0.15 };
const TIER_MIX_DRIFTED = { free: 0.3, standard: 0.4, premium: 0.3 };

const OPENERS = ['', '', 'Hi,', 'Hello,', 'Hi team,', 'Good morning,', 'URGENT:', 'Dear support,', 'hey'];
const CLOSERS = ['', '', 'Thanks.', 'Thank you!', 'Please help.', 'Regards, {name}', "I've been a customer for years.", 'This is the second time I write.', 'Please answer quickly.'];
const SLOTS = {
  item: ['laptop', 'headphones', 'sofa', 'coffee maker', 'running shoes', 'phone case', 'jacket', 'monitor', 'blender', 'backpack', 'desk lamp', 'smartwatch', 'dress', 'tent'],
  carrier: ['UPS', 'FedEx', 'DHL', 'USPS', 'the courier', 'Royal Mail'],
  app: ['the app', 'the website', 'the mobile app', 'the iOS app', 'the Android app', 'your site'],
  card: ['credit card', 'debit card', 'PayPal account', 'Visa card', 'Mastercard'],
  name: ['Anna', 'Ben', 'Chen', 'Dana', 'Eli', 'Fatima', 'Gus', 'Hiro', 'Ines', 'Jon'],
};

/**
 * Fill `{slot}`s of a phrasing.
 * @param {Random} rng
 * @param {string} text
 */
function fill(rng, text) {
  return text.replace(/\{(\w+)\}/g, (_, slot) => {
    if (slot === 'order') return `#${rng.int(100000, 999999)}`;
    if (slot === 'amount' || slot === 'amount2') return `$${(rng.int(500, 50000) / 100).toFixed(2)}`;
    if (slot === 'days') return String(rng.int(2, 21));
    if (slot === 'email') return `${rng.pick(SLOTS.name).toLowerCase()}${rng.int(1, 99)}@example.com`;
    return rng.pick(SLOTS[slot]);
  });
}

/**
 * Generate tickets with their category.
 * @param {{ seed: number, n: number, drift?: number }} options
 * @returns {{ text: string, channel: string, customer_tier: string, category: string }[]}
 */
export function generateRows({ seed, n, drift = 0 }) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n: expected a non-negative integer, got ${n}`);
  if (!(drift >= 0 && drift <= 1)) throw new RangeError(`drift: expected a number in [0, 1], got ${drift}`);
  const rng = new Random(seed);
  const categoryMix = blend(CATEGORY_MIX, CATEGORY_MIX_DRIFTED, drift);
  const tierMix = blend(TIER_MIX, TIER_MIX_DRIFTED, drift);
  const categories = Object.keys(PHRASES);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const topic = rng.weighted(categoryMix);
    const phrase = rng.chance(0.8 * drift) ? rng.pick(NEW_PHRASES[topic]) : rng.pick(PHRASES[topic]);
    const parts = [rng.pick(OPENERS), fill(rng, phrase.text)];
    // A second, off-topic sentence: customers mention more than one thing.
    if (rng.chance(0.2)) parts.push(fill(rng, rng.pick(PHRASES[rng.pick(categories)]).text));
    parts.push(fill(rng, rng.pick(CLOSERS)));
    let text = parts.filter(Boolean).join(' ');
    if (rng.chance(0.5)) text = text.toLowerCase();

    let category = topic;
    if (phrase.to && rng.chance(0.85 * drift)) category = phrase.to;
    if (rng.chance(0.03)) category = rng.pick(categories);
    rows.push({
      text,
      channel: rng.weighted(blend(CHANNEL_MIX[topic], CHANNEL_SHIFT, 0.6 * drift)),
      customer_tier: rng.weighted(tierMix),
      category,
    });
  }
  return rows;
}
