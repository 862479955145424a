import type { OutgoingMail } from '../notifications/mail-outbox.repository';

/**
 * The texts of account mail (plain text and HTML). Links point at the public base
 * URL; a front end there reads `token` from the query string and calls the matching
 * /api/v1/auth route.
 */
const escape = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function mail(to: string, subject: string, lines: string[], link: string, action: string): OutgoingMail {
  return {
    to,
    subject,
    text: [...lines, '', `${action}: ${link}`, '', 'If you did not expect this message, ignore it.'].join(
      '\n',
    ),
    html: [
      ...lines.map((line) => `<p>${escape(line)}</p>`),
      `<p><a href="${escape(link)}">${escape(action)}</a></p>`,
      '<p style="color:#666">If you did not expect this message, ignore it.</p>',
    ].join('\n'),
  };
}

const linkTo = (baseUrl: string, path: string, token: string) =>
  `${baseUrl.replace(/\/$/, '')}/${path}?token=${encodeURIComponent(token)}`;

export function invitationMail(p: {
  to: string;
  fullName: string;
  companyName: string;
  token: string;
  baseUrl: string;
  hours: number;
}): OutgoingMail {
  return mail(
    p.to,
    `You are invited to ${p.companyName} on HireBuddha`,
    [
      `Hello ${p.fullName},`,
      `You have been invited to join ${p.companyName}. The link works once, for ${p.hours} hours.`,
    ],
    linkTo(p.baseUrl, 'accept-invitation', p.token),
    'Accept the invitation and choose a password',
  );
}

export function verificationMail(p: {
  to: string;
  fullName: string;
  token: string;
  baseUrl: string;
  hours: number;
}): OutgoingMail {
  return mail(
    p.to,
    'Confirm your email address',
    [
      `Hello ${p.fullName},`,
      `Please confirm that this is your address. The link works once, for ${p.hours} hours.`,
    ],
    linkTo(p.baseUrl, 'verify-email', p.token),
    'Confirm my address',
  );
}

export function passwordResetMail(p: {
  to: string;
  fullName: string;
  token: string;
  baseUrl: string;
  minutes: number;
}): OutgoingMail {
  return mail(
    p.to,
    'Reset your HireBuddha password',
    [
      `Hello ${p.fullName},`,
      `Someone asked to reset your password. The link works once, for ${p.minutes} minutes.`,
    ],
    linkTo(p.baseUrl, 'reset-password', p.token),
    'Choose a new password',
  );
}
