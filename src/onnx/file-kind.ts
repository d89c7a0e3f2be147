// What a file that is not ONNX is instead, from its first bytes, so the error says "this is a PNG image"
// rather than a protobuf detail. Asked only once the bytes have failed as ONNX: a sniff never turns a valid
// model away.

const ascii = (bytes: Uint8Array, from: number, length: number) =>
  String.fromCharCode(...bytes.subarray(from, from + length));

/** Known formats by their signatures, most specific first. */
const SIGNATURES: readonly { kind: string; matches: (b: Uint8Array) => boolean }[] = [
  {
    kind: 'a Git LFS pointer (the model itself was never downloaded: run `git lfs pull`)',
    matches: (b) => ascii(b, 0, 24) === 'version https://git-lfs.',
  },
  { kind: 'a PNG image', matches: (b) => ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n' },
  { kind: 'a JPEG image', matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { kind: 'a GIF image', matches: (b) => ascii(b, 0, 4) === 'GIF8' },
  { kind: 'a WebP image', matches: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP' },
  { kind: 'a PDF document', matches: (b) => ascii(b, 0, 5) === '%PDF-' },
  { kind: 'a TensorFlow Lite model', matches: (b) => ascii(b, 4, 4) === 'TFL3' },
  { kind: 'an HDF5 file (a Keras model?)', matches: (b) => ascii(b, 0, 8) === '\x89HDF\r\n\x1a\n' },
  {
    kind: 'a ZIP archive (a PyTorch checkpoint, or a zipped model: unzip it first)',
    matches: (b) => ascii(b, 0, 2) === 'PK' && (b[2] === 3 || b[2] === 5),
  },
  { kind: 'a gzip archive (decompress it first)', matches: (b) => b[0] === 0x1f && b[1] === 0x8b },
  { kind: 'a Python pickle (a PyTorch or NumPy file?)', matches: (b) => b[0] === 0x80 && b[1]! >= 2 && b[1]! <= 5 },
  { kind: 'a safetensors file (weights without a graph)', matches: isSafetensors },
  {
    kind: 'a web page (HTML), e.g. an error or login page instead of the model',
    matches: (b) => /^\s*<(!doctype html|html|head|body)/i.test(ascii(b, 0, 64)),
  },
];

/** safetensors: an 8-byte little-endian header length, then a JSON header. */
function isSafetensors(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const length = b[0]! + b[1]! * 2 ** 8 + b[2]! * 2 ** 16 + b[3]! * 2 ** 24;
  return b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] === 0 && length > 0 && length <= b.length - 8 && b[8] === 0x7b; // '{'
}

/** Printable text (UTF-8 without control bytes other than tab and line ends) in the first 512 bytes. */
function isText(b: Uint8Array): boolean {
  const head = b.subarray(0, 512);
  if (head.length === 0) return false;
  for (const byte of head) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - 3)); // may cut a character
  } catch {
    return false;
  }
  return true;
}

/** "a PNG image", "a text file", …; undefined when the bytes match no known format. */
export function describeNonOnnx(bytes: Uint8Array): string | undefined {
  const known = SIGNATURES.find((s) => s.matches(bytes));
  if (known) return known.kind;
  if (isText(bytes)) return bytes[0] === 0x7b || bytes[0] === 0x5b ? 'a JSON or text file' : 'a text file';
  return undefined;
}
