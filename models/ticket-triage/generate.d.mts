/** Types of generate.mjs for TypeScript callers (the demo creates traffic and labels in-process). */

/** One synthetic support ticket: the model's features plus its label, `category`. */
export interface TicketRow {
  text: string;
  /** email, chat, phone, web, social; whatsapp appears only under drift */
  channel: string;
  customer_tier: 'free' | 'standard' | 'premium';
  category: 'account' | 'billing' | 'fraud' | 'returns' | 'shipping' | 'technical';
}

/**
 * Seeded tickets; `drift` in [0, 1] shifts the inputs and the label relationship.
 * @throws RangeError for a negative or fractional `n` or a drift outside [0, 1]
 */
export function generateRows(options: { seed: number; n: number; drift?: number }): TicketRow[];
