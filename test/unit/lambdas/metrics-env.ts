// Imported before any handler by the tests that read the metrics: Powertools Metrics reads
// these at construction. POWERTOOLS_DEV makes it write EMF through the global console.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_DEV = 'true';
