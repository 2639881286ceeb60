/**
 * The process environment of everything that runs Parley's handlers on this machine (`npm start`, the
 * tests, the benchmark), set before any handler loads: Powertools' log level, tracing off (there is no
 * X-Ray daemon), a region, and no probing of the EC2 metadata address for credentials.
 */
export function useLocalProcessEnvironment(logLevel: 'INFO' | 'ERROR' | 'SILENT'): void {
  process.env.POWERTOOLS_LOG_LEVEL ??= logLevel;
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.POWERTOOLS_DEV ??= 'false';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}
