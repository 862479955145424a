/**
 * The approvals inbox: one HTML page and one script, no framework, no build. The
 * script talks to the public API only (login, list, approve, reject), keeps the
 * access token in sessionStorage, and writes every value with textContent, never as
 * HTML: a snapshot comes from model output and must not run in the approver's browser.
 */
export const APPROVALS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Approvals · HireBuddha</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 1.5rem; color: #1d2330; }
  h1 { font-size: 1.4rem; }
  form.login, article { border: 1px solid #d6dbe4; border-radius: 8px; padding: 1rem; margin: 1rem 0; }
  label { display: block; margin: .4rem 0; }
  input, textarea { font: inherit; width: 100%; box-sizing: border-box; padding: .35rem; }
  textarea { min-height: 7rem; font-family: ui-monospace, monospace; font-size: 13px; }
  pre { background: #f5f7fa; padding: .6rem; overflow: auto; font-size: 13px; }
  button { font: inherit; padding: .35rem .9rem; margin-right: .5rem; cursor: pointer; }
  .meta { color: #5b6577; font-size: 13px; }
  .error { color: #a4161a; }
  .empty { color: #5b6577; }
</style>
</head>
<body>
<h1>Approvals</h1>
<form class="login" id="login" hidden>
  <label>Email <input name="email" type="email" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
  <p class="error" id="login-error"></p>
</form>
<section id="inbox" hidden>
  <p class="meta"><span id="who"></span> · <button type="button" id="refresh">Refresh</button><button type="button" id="logout">Log out</button></p>
  <p class="error" id="inbox-error"></p>
  <div id="list"></div>
</section>
<script src="/console/approvals.js" defer></script>
</body>
</html>
`;

export const APPROVALS_SCRIPT = `'use strict';
(() => {
  const api = '/api/v1';
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem('hb.accessToken');

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child);
    return node;
  }

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method,
      headers: Object.assign(
        { accept: 'application/json' },
        token ? { authorization: 'Bearer ' + token } : {},
        body === undefined ? {} : { 'content-type': 'application/json' },
      ),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json();
    if (response.status === 401) showLogin();
    if (!response.ok) throw new Error((data && (data.detail || data.title)) || 'HTTP ' + response.status);
    return data;
  }

  function showLogin() {
    token = null;
    sessionStorage.removeItem('hb.accessToken');
    $('inbox').hidden = true;
    $('login').hidden = false;
  }

  async function showInbox() {
    $('login').hidden = true;
    $('inbox').hidden = false;
    $('inbox-error').textContent = '';
    const me = await call('GET', '/auth/me');
    $('who').textContent = me.email + ' (' + me.role + ')';
    const page = await call('GET', '/approvals?status=PENDING&limit=200');
    const list = $('list');
    list.replaceChildren();
    if (!page.items.length) list.append(el('p', { className: 'empty', textContent: 'Nothing is waiting for you.' }));
    for (const approval of page.items) list.append(card(approval));
  }

  function card(approval) {
    const snapshot = approval.contextSnapshot || {};
    const editable = approval.checkpoint === 'output_review' ? snapshot.output : snapshot.pending && snapshot.pending.arguments;
    const field = approval.checkpoint === 'output_review' ? 'editedOutput' : snapshot.pending ? 'editedInput' : null;
    const original = JSON.stringify(editable === undefined ? null : editable, null, 2);
    const edit = el('textarea', { value: original, name: 'edit' });
    const notes = el('input', { name: 'notes', placeholder: 'Notes for the record (optional)' });
    const status = el('p', { className: 'error' });
    const article = el(
      'article',
      { id: 'approval-' + approval.id },
      el('h2', { textContent: (snapshot.entityName || 'Run') + ' · ' + approval.checkpoint }),
      el('p', {
        className: 'meta',
        textContent:
          'Run ' + approval.runId + ' · asked ' + new Date(approval.createdAt).toLocaleString() +
          (approval.expiresAt ? ' · expires ' + new Date(approval.expiresAt).toLocaleString() : '') +
          ' · cost so far $' + (snapshot.costSoFarUsd || '0'),
      }),
      el('pre', { textContent: JSON.stringify(snapshot, null, 2) }),
    );
    if (field) article.append(el('label', { textContent: field + ' (JSON)' }, edit));
    article.append(notes);
    const answer = async (verb) => {
      status.textContent = '';
      const body = { notes: notes.value || undefined };
      if (verb === 'approve' && field && edit.value !== original) {
        try {
          body[field] = JSON.parse(edit.value);
        } catch (error) {
          status.textContent = 'The edit is not valid JSON: ' + error.message;
          return;
        }
      }
      try {
        await call('POST', '/approvals/' + approval.id + '/' + verb, body);
        article.replaceChildren(el('p', { className: 'meta', textContent: verb === 'approve' ? 'Approved.' : 'Rejected.' }));
      } catch (error) {
        status.textContent = error.message;
      }
    };
    article.append(
      el('p', {},
        el('button', { type: 'button', textContent: 'Approve', onclick: () => answer('approve') }),
        el('button', { type: 'button', textContent: 'Reject', onclick: () => answer('reject') })),
      status,
    );
    return article;
  }

  $('login').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const session = await call('POST', '/auth/login', { email: form.get('email'), password: form.get('password') });
      token = session.accessToken;
      sessionStorage.setItem('hb.accessToken', token);
      $('login-error').textContent = '';
      await showInbox();
    } catch (error) {
      $('login-error').textContent = error.message;
    }
  });
  $('refresh').addEventListener('click', () => showInbox().catch((e) => ($('inbox-error').textContent = e.message)));
  $('logout').addEventListener('click', () => showLogin());
  if (token) showInbox().catch(() => showLogin());
  else showLogin();
})();
`;
