/**
 * A phone number fit for a log line: every character but the last four digits is masked
 * (`+15551234567` → `********4567`). A number too short to keep four digits back is masked whole.
 */
export function maskPhoneNumber(phoneNumber: string): string {
  const kept = phoneNumber.length > 4 ? phoneNumber.slice(-4) : '';
  return kept.padStart(phoneNumber.length, '*');
}
