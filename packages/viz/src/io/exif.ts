/**
 * Reads the EXIF orientation tag (0x0112) from the payload of a JPEG APP1
 * segment (starting with "Exif\0\0"). Returns 1..8, or 1 when absent or
 * unreadable: a broken EXIF block must not make an otherwise good image fail.
 */
export function exif_orientation(app1: Uint8Array): number {
  if (app1.length < 14) return 1;
  const sig = String.fromCharCode(...app1.subarray(0, 4));
  if (sig !== 'Exif' || app1[4] !== 0 || app1[5] !== 0) return 1;
  const tiff = app1.subarray(6);
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = String.fromCharCode(tiff[0]!, tiff[1]!);
  if (order !== 'II' && order !== 'MM') return 1;
  const le = order === 'II';
  if (view.getUint16(2, le) !== 42) return 1;
  const ifd = view.getUint32(4, le);
  if (ifd + 2 > tiff.length) return 1;
  const count = view.getUint16(ifd, le);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) return 1;
    if (view.getUint16(e, le) !== 0x0112) continue;
    const type = view.getUint16(e + 2, le);
    // SHORT is the standard type; accept LONG too, as some writers use it.
    const v = type === 3 ? view.getUint16(e + 8, le) : type === 4 ? view.getUint32(e + 8, le) : 1;
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}
