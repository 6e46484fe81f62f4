import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

const NAME = 'lms.device';
const MAX_AGE_MS = 180 * 86400_000;

/**
 * A "device cookie" (OWASP's defence against lock-out by others): a browser in which a person
 * signed in successfully carries a random id signed together with their e-mail. Sign-ins of that
 * person from that browser are counted on their own, so failures of others (an attacker guessing
 * the account's password, colleagues behind the office's one address) never lock them out.
 * The e-mail is not in the cookie: the signature only matches when the same address is typed.
 */
export class DeviceCookies {
  constructor(
    private readonly secret: string,
    private readonly secure: boolean,
  ) {}

  private sign(id: string, email: string): string {
    return createHmac('sha256', this.secret)
      .update(`device:${id}:${normalise(email)}`)
      .digest('base64url');
  }

  /** The browser's device id if its cookie was issued for this e-mail. */
  trusted(req: Request, email: unknown): string | undefined {
    if (typeof email !== 'string') return undefined;
    const m = new RegExp(`(?:^|;\\s*)${NAME.replace('.', '\\.')}=([A-Za-z0-9_-]{16,64})\\.([A-Za-z0-9_-]{43})(?:;|$)`).exec(
      req.headers.cookie ?? '',
    );
    if (!m) return undefined;
    const [, id, sig] = m;
    const expected = Buffer.from(this.sign(id, email));
    return expected.length === sig.length && timingSafeEqual(expected, Buffer.from(sig)) ? id : undefined;
  }

  /** After a successful sign-in: this browser is now known for this person. */
  issue(req: Request, res: Response, email: string): void {
    const id = this.trusted(req, email) ?? randomBytes(18).toString('base64url');
    res.cookie(NAME, `${id}.${this.sign(id, email)}`, { httpOnly: true, sameSite: 'lax', secure: this.secure, maxAge: MAX_AGE_MS });
  }
}

const normalise = (email: string) => email.trim().toLowerCase();
