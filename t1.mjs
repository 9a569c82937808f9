import { createClient } from '@redis/client';
async function attempt(url) {
  let connected = false;
  const client = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: (retries, cause) => connected ? 500 : cause } });
  const errors = [];
  client.on('error', (e) => errors.push(e.message));
  try { await client.connect(); connected = true; console.log(url, 'connected', await client.ping()); await client.close(); }
  catch (e) { console.log(url, 'FAIL', e.constructor.name, e.code, e.message, 'errors:', errors); }
}
await attempt('redis://127.0.0.1:6391');
await attempt('redis://:wrong@127.0.0.1:6391');
await attempt('redis://:secret@127.0.0.1:6391');
await attempt('redis://127.0.0.1:6399');
await attempt('redis://nonexistent.invalid:6399');
try { await attempt('http://x'); } catch (e) { console.log('threw', e.message) }
