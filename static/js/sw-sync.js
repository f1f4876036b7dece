// Background Sync in the module service worker (/sw-module.js, where the browser has Background
// Sync): the pages' own flush (sync.js) run by the worker, so queued photos and submissions go up
// when the network returns even with no page of the app open, and an inspection finished offline
// before its deadline does not wait for the app's next start to reach the server.
import { ApiError, refreshSession } from "./api.js";
import { flush, setUser } from "./sync.js";

// Resolves once the outbox is sent, or when only the person can go on (signed out; an entry
// refused and waiting for them). Rejects when the browser should try again later (offline).
async function flushOutbox() {
  let session;
  try {
    session = await refreshSession();  // whose outbox this is, and the CSRF token for the writes
  } catch (error) {
    if (error instanceof ApiError) return "login";  // signed out: the app's next start flushes
    throw error;
  }
  setUser(session.username);  // a shared phone: another person's entries stay for them
  const outcome = await flush();
  if (outcome === "offline" || outcome === "error") throw new Error(`outbox not sent: ${outcome}`);
  // open pages read the phone's data again (the sync bar, a form's result)
  if (outcome === "done" && "BroadcastChannel" in self) new BroadcastChannel("inspect-sync").postMessage("synced");
  return outcome;
}

self.flushOutbox = flushOutbox;
