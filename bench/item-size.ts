/**
 * DynamoDB item sizes as DynamoDB counts them for capacity units: attribute names plus values (strings by
 * UTF-8 length, numbers about one byte per two digits plus one, containers 3 bytes plus their contents).
 */
type AttributeValue = Record<string, unknown>;

const utf8 = (text: string) => Buffer.byteLength(text);
const numberSize = (text: string) => Math.ceil(text.replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '').length / 2) + 1;

/** Size of a marshalled value (`{S: '…'}`, `{M: {…}}`, …), as the request carries it. */
function attributeValueSize(value: AttributeValue): number {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return utf8(inner as string);
    case 'N':
      return numberSize(inner as string);
    case 'B':
      return (inner as Uint8Array).length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((sum, s) => sum + utf8(s), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, s) => sum + numberSize(s), 0);
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, v) => sum + 1 + attributeValueSize(v), 0);
    case 'M':
      return 3 + marshalledItemSize(inner as Record<string, AttributeValue>);
    default:
      return 1;
  }
}

export function marshalledItemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + attributeValueSize(value), 0);
}

/** Size of a plain JavaScript value, as the document client answers it. */
function plainValueSize(value: unknown): number {
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(String(value));
  if (value instanceof Uint8Array) return value.length;
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + plainValueSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + plainValueSize(v), 0);
  if (value && typeof value === 'object') return 3 + plainItemSize(value as Record<string, unknown>);
  return 1;
}

export function plainItemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + plainValueSize(value), 0);
}
