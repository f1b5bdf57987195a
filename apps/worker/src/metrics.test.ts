import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics, serveMetrics } from './metrics.ts';

describe("the worker's /metrics", () => {
  it('wants the scrape token when one is configured', async () => {
    const server = await serveMetrics(createWorkerMetrics(), '127.0.0.1', 0, 'scrape-token-0123456789');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('glidepath_audit_chain_valid');
    } finally {
      server.close();
    }
  });
});
