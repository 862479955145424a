import { signWebhook, verifyWebhook } from './webhook-signature';

describe('webhook signatures', () => {
  const secret = 'a-channel-secret-0123456789';
  const body = JSON.stringify({ event: 'approval.requested', approval: { id: 'x' } });
  const at = new Date('2026-11-25T12:00:00Z');

  it('signs "<t>.<body>" with HMAC-SHA256 and verifies it', () => {
    const header = signWebhook(secret, body, at);
    expect(header).toMatch(/^t=1795608000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(secret, body, header, 300, at)).toBe(true);
  });

  it('rejects another body, another secret, a stale timestamp or a mangled header', () => {
    const header = signWebhook(secret, body, at);
    expect(verifyWebhook(secret, `${body} `, header, 300, at)).toBe(false);
    expect(verifyWebhook('another-secret-0123456789', body, header, 300, at)).toBe(false);
    expect(verifyWebhook(secret, body, header, 300, new Date(at.getTime() + 301_000))).toBe(false);
    expect(verifyWebhook(secret, body, header.replace('v1=', 'v0='), 300, at)).toBe(false);
  });
});
