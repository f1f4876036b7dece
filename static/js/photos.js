// Photos on the phone: read the capture facts from the original bytes, then downscale.
const MAX_SIDE = 2048;
const QUALITY = 0.85;

// -- a tiny EXIF reader: DateTimeOriginal (or DateTime) and GPS, nothing else ---------------
export function readExif(buffer) {
  const view = new DataView(buffer);
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return {};
  let offset = 2;
  while (offset + 4 <= view.byteLength) {
    const marker = view.getUint16(offset);
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) break;  // start of scan: no EXIF
    const length = view.getUint16(offset + 2);
    if (marker === 0xffe1 && view.getUint32(offset + 4) === 0x45786966) {  // "Exif"
      try { return parseTiff(view, offset + 10); } catch (error) { return {}; }
    }
    offset += 2 + length;
  }
  return {};
}

function parseTiff(view, start) {
  const little = view.getUint16(start) === 0x4949;
  const u16 = (at) => view.getUint16(start + at, little);
  const u32 = (at) => view.getUint32(start + at, little);
  const ifd = (at) => {
    const tags = {};
    const count = u16(at);
    for (let i = 0; i < count; i++) {
      const entry = at + 2 + i * 12;
      tags[u16(entry)] = { type: u16(entry + 2), count: u32(entry + 4), at: entry + 8 };
    }
    return tags;
  };
  const ascii = (tag) => {
    if (!tag) return null;
    const at = tag.count > 4 ? u32(tag.at) : tag.at;
    let text = "";
    for (let i = 0; i < tag.count - 1; i++) text += String.fromCharCode(view.getUint8(start + at + i));
    return text.replace(/\0+$/, "").trim() || null;
  };
  const rationals = (tag) => {
    if (!tag || tag.type !== 5) return null;
    const at = u32(tag.at);
    const values = [];
    for (let i = 0; i < tag.count; i++) {
      const den = u32(at + i * 8 + 4);
      values.push(den ? u32(at + i * 8) / den : 0);
    }
    return values;
  };
  const ifd0 = ifd(u32(4));
  const exifIfd = ifd0[0x8769] ? ifd(u32(ifd0[0x8769].at)) : {};
  const facts = {};
  const raw = ascii(exifIfd[0x9003]) || ascii(ifd0[0x0132]);
  const time = raw && raw.match(/^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})/);
  if (time) {
    const offset = ascii(exifIfd[0x9011]);  // OffsetTimeOriginal, e.g. "+08:00"
    facts.exif_time = `${time[1]}-${time[2]}-${time[3]}T${time[4]}:${time[5]}:${time[6]}` + (offset && /^[+-]\d{2}:\d{2}$/.test(offset) ? offset : "");
  }
  if (ifd0[0x8825]) {
    const gps = ifd(u32(ifd0[0x8825].at));
    const lat = rationals(gps[2]);
    const lon = rationals(gps[4]);
    if (lat && lon && lat.length === 3 && lon.length === 3) {
      const deg = (v) => v[0] + v[1] / 60 + v[2] / 3600;
      const latRef = ascii(gps[1]);
      const lonRef = ascii(gps[3]);
      const point = { lat: deg(lat) * (latRef === "S" ? -1 : 1), lon: deg(lon) * (lonRef === "W" ? -1 : 1) };
      if (Math.abs(point.lat) <= 90 && Math.abs(point.lon) <= 180) facts.exif_gps = point;
    }
  }
  return facts;
}

// -- what kind of picture: the server's rule (magic bytes only), so a file it would refuse as
// no picture at all is refused on the phone at once, before it is queued ----------------------
const HEIF_BRANDS = ["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "mif2"];
export function photoKind(buffer) {
  const b = new Uint8Array(buffer);
  const text = (from, to) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 8 && text(0, 8) === "\x89PNG\r\n\x1a\n") return "png";
  if (b.length >= 12 && text(0, 4) === "RIFF" && text(8, 12) === "WEBP") return "webp";
  if (b.length >= 12 && text(4, 8) === "ftyp") {
    const brands = [text(8, 12)];
    for (let i = 16; i + 4 <= Math.min(b.length, 64); i += 4) brands.push(text(i, i + 4));
    if (brands.some((brand) => HEIF_BRANDS.includes(brand))) return "heic";
  }
  return null;
}

// A file that is no picture the server takes (a document, a video, a renamed text file).
export class NotAPhoto extends Error {}

// -- keeping the camera's EXIF through the downscale ---------------------------------------------
// The canvas writes no metadata, so a downscaled photo would reach the server without camera,
// time or place, and be flagged 无相机信息 (like a screenshot). The original's APP1 Exif segment
// is copied into the downscaled JPEG, its Orientation set to 1: the canvas has already turned
// the pixels upright, and the server would otherwise turn them again.
export function exifSegment(buffer) {
  const view = new DataView(buffer);
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return null;
  let offset = 2;
  while (offset + 4 <= view.byteLength) {
    const marker = view.getUint16(offset);
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) break;
    const length = view.getUint16(offset + 2);
    if (marker === 0xffe1 && offset + 10 <= view.byteLength && view.getUint32(offset + 4) === 0x45786966) {
      if (offset + 2 + length > view.byteLength) return null;  // cut off: better none than half
      const segment = new Uint8Array(buffer.slice(offset, offset + 2 + length));
      try { upright(new DataView(segment.buffer), 10); } catch (error) { return null; }
      return segment;
    }
    offset += 2 + length;
  }
  return null;
}

// Orientation (0x0112, a SHORT in IFD0) → 1, in place.
function upright(view, start) {
  const little = view.getUint16(start) === 0x4949;
  const ifd0 = start + view.getUint32(start + 4, little);
  const count = view.getUint16(ifd0, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (view.getUint16(entry, little) === 0x0112) view.setUint16(entry + 8, 1, little);
  }
}

// The re-encoded JPEG with ``segment`` after its SOI (and JFIF APP0, if any).
async function withExif(blob, segment) {
  if (!segment || !blob) return blob;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const view = new DataView(bytes.buffer);
  if (bytes.length < 4 || view.getUint16(0) !== 0xffd8) return blob;
  let at = 2;
  if (view.getUint16(2) === 0xffe0) at = 4 + view.getUint16(4);
  return new Blob([bytes.subarray(0, at), segment, bytes.subarray(at)], { type: "image/jpeg" });
}

// -- capture -----------------------------------------------------------------------------------
function localIso(date) {
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const tz = -date.getTimezoneOffset();
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${tz >= 0 ? "+" : "-"}${pad(tz / 60)}:${pad(tz % 60)}`;
}

export const nowIso = () => localIso(new Date());

// Where the phone is, if the person allowed it (never blocks the photo for long).
function position() {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 4000);
    navigator.geolocation.getCurrentPosition(
      (p) => { clearTimeout(timer); resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy }); },
      () => { clearTimeout(timer); resolve(null); },
      { enableHighAccuracy: true, timeout: 4000, maximumAge: 60000 });
  });
}

async function geolocationAllowed() {
  try {
    const state = await navigator.permissions.query({ name: "geolocation" });
    return state.state !== "denied";
  } catch (error) { return true; }
}

async function downscale(file, exif = null) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const { width, height } = bitmap;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  if (scale === 1 && file.type === "image/jpeg") { bitmap.close(); return file; }  // keep the original bytes
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  let blob;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, w, h);
    blob = await canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, w, h);
    blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  }
  bitmap.close();
  return withExif(blob, exif);
}

// A picked or taken photo → {blob, facts}: facts first (from the original), then the resize.
export async function prepare(file, source) {
  const facts = { device_time: nowIso(), source };
  const head = await file.slice(0, 256 * 1024).arrayBuffer();
  if (!photoKind(head)) throw new NotAPhoto(file.name || "");
  Object.assign(facts, readExif(head));
  const [blob, where] = await Promise.all([
    downscale(file, exifSegment(head)).catch(() => file),
    geolocationAllowed().then((ok) => (ok ? position() : null)),
  ]);
  if (where) facts.geolocation = where;
  return { blob, facts };
}
