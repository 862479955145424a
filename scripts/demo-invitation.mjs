// @ts-check
// Quick-start helper: signs in as the demo tenant admin, invites invitee@demo.local
// (again on every run: a pending invitation gets a fresh link), and prints the link
// from the mail outbox once the worker has handled it. Plain Node, no dependencies
// beyond pg, which the project has.
import pg from 'pg';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const api = async (path, body, token) => {
  const response = await fetch(`${base}/api/v1${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
};

const password = process.env.DEMO_USER_PASSWORD ?? 'demo-password-1234';
const { accessToken, user } = await api('/auth/login', { email: 'tenant.admin@demo.local', password });
const started = new Date();
await api(
  '/users/invitations',
  { email: 'invitee@demo.local', fullName: 'Ivy Invitee', role: 'member', companyId: user.companyId },
  accessToken,
);

const db = new pg.Client({ connectionString: process.env.DATABASE_ADMIN_URL });
await db.connect();
try {
  for (let i = 0; i < 100; i++) {
    const { rows } = await db.query(
      `SELECT text FROM mail_outbox WHERE to_address = 'invitee@demo.local' AND created_at >= $1 AND status <> 'pending'
        ORDER BY created_at DESC LIMIT 1`,
      [started],
    );
    const link = rows[0]?.text.match(/https?:\/\/\S+token=\S+/)?.[0];
    if (link) {
      console.log(link);
      process.exit(0);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the worker did not handle the invitation mail in time');
} finally {
  await db.end();
}
