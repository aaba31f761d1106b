import { it, expect } from 'vitest';
import mysql from 'mysql2/promise';
import { startGaleraCluster } from '../support/galeraServer.js';
it('starts', async () => {
  const c = await startGaleraCluster();
  console.log("start", c.startSeconds, c.timings);
  try {
    for (const n of c.nodes) {
      const conn = await mysql.createConnection({ uri: n.appUrl });
      const [r] = await conn.query("SHOW STATUS LIKE 'wsrep_cluster_size'");
      console.log(n.name, JSON.stringify(r));
      await conn.end();
    }
  } finally { await c.stop(); }
}, 200_000);
