// A tiny promise wrapper around IndexedDB: one database, a few object stores.
const DB_NAME = "inspect-pwa";
const DB_VERSION = 1;
let opening = null;

function upgrade(db) {
  // forms: one record per inspection (local answers, events, base version, conflict, submission)
  if (!db.objectStoreNames.contains("forms")) db.createObjectStore("forms", { keyPath: "id" });
  // photos: the picture as a Blob plus its capture facts and upload state, by client UUID
  if (!db.objectStoreNames.contains("photos")) {
    db.createObjectStore("photos", { keyPath: "client_id" }).createIndex("inspection", "inspection_id");
  }
  // outbox: what must reach the server, keyed by the client UUID that makes a replay harmless
  if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "id" });
  if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
}

export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => upgrade(request.result);
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = () => { opening = null; reject(request.error); };
    });
  }
  return opening;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Run fn(stores...) in one transaction; resolves with fn's result once the transaction commits.
export async function tx(names, mode, fn) {
  const db = await open();
  const list = Array.isArray(names) ? names : [names];
  const transaction = db.transaction(list, mode);
  const stores = list.map((name) => transaction.objectStore(name));
  const result = fn(...stores);
  return new Promise((resolve, reject) => {
    transaction.oncomplete = async () => resolve(await result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("transaction aborted"));
  });
}

export const get = (store, key) => tx(store, "readonly", (s) => done(s.get(key)));
export const getAll = (store) => tx(store, "readonly", (s) => done(s.getAll()));
export const put = (store, value, key) =>
  tx(store, "readwrite", (s) => done(key === undefined ? s.put(value) : s.put(value, key)));
export const del = (store, key) => tx(store, "readwrite", (s) => done(s.delete(key)));
export const byIndex = (store, index, key) =>
  tx(store, "readonly", (s) => done(s.index(index).getAll(key)));

// Read, change and write one record atomically: fn(old) returns the new record (or undefined to
// leave it). Resolves with the record written.
export const update = (store, key, fn) => tx(store, "readwrite", (s) => new Promise((resolve, reject) => {
  const read = s.get(key);
  read.onsuccess = () => {
    const next = fn(read.result);
    if (next === undefined) { resolve(read.result); return; }
    const write = s.put(next);
    write.onsuccess = () => resolve(next);
    write.onerror = () => reject(write.error);
  };
  read.onerror = () => reject(read.error);
}));
