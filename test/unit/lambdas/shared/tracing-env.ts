// Imported first by the tracing tests: Powertools Tracer decides at construction whether it
// traces, and it does only in a Lambda execution environment.
process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
delete process.env.POWERTOOLS_TRACE_ENABLED;
// No daemon in a test: the SDK logs and drops what it cannot send.
process.env.AWS_XRAY_CONTEXT_MISSING = 'IGNORE_ERROR';
