/** Types of generate.mjs for TypeScript callers (the demo creates traffic and labels in-process). */

/** One synthetic delivery: the model's features plus its label, `delivery_hours`. */
export interface DeliveryRow {
  distance_km: number;
  weight_kg: number;
  service_level: 'economy' | 'standard' | 'express';
  origin_region: 'north' | 'south' | 'east' | 'west' | 'central' | 'islands';
  destination_type: 'residential' | 'business' | 'parcel_locker';
  weekday: 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
  hour: number;
  fragile: 0 | 1;
  package_count: number;
  warehouse_load: number;
  delivery_hours: number;
}

/**
 * Seeded deliveries; `drift` in [0, 1] shifts the inputs and the label relationship.
 * @throws RangeError for a negative or fractional `n` or a drift outside [0, 1]
 */
export function generateRows(options: { seed: number; n: number; drift?: number }): DeliveryRow[];
