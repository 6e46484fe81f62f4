/**
 * Signs a rendered PDF: a signature dictionary is added as an incremental update
 * (@signpdf/placeholder-plain) and filled with a detached CMS/PKCS#7 signature over the byte
 * range (@signpdf/signpdf), SHA-256 + RSA, the signer certificate and its chain embedded.
 * The PKCS#12 is parsed once at start-up and the RSA operation runs in Node's native crypto:
 * the stock P12Signer re-parses the PKCS#12 and signs in JavaScript for every document.
 */
import { constants, privateEncrypt } from 'node:crypto';
import forge from 'node-forge';
import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { SignPdf } from '@signpdf/signpdf';
import { Signer, SUBFILTER_ADOBE_PKCS7_DETACHED } from '@signpdf/utils';
import type { PdfSigningIdentity } from './signing-keys';

/**
 * Room reserved for the CMS blob (written as hex, so it costs twice this in the file): the
 * certificates it embeds plus ~1.5 KB for signer info, attributes and the RSA-4096 worst case.
 */
function signatureLength(id: PdfSigningIdentity): number {
  const certBytes = id.certificates.reduce((n, c) => n + forge.asn1.toDer(forge.pki.certificateToAsn1(c)).length(), 0);
  return Math.ceil((certBytes + 1536) / 512) * 512;
}

// DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2): RSASSA-PKCS1-v1_5 signs prefix + digest.
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

class IdentitySigner extends Signer {
  constructor(private readonly id: PdfSigningIdentity) {
    super();
  }

  override async sign(pdfBuffer: Buffer, signingTime?: Date): Promise<Buffer> {
    const p7 = forge.pkcs7.createSignedData();
    p7.content = forge.util.createBuffer(pdfBuffer.toString('binary'));
    for (const c of this.id.certificates) p7.addCertificate(c);
    const nativeKey = {
      sign: (md: forge.md.MessageDigest) =>
        privateEncrypt(
          { key: this.id.privateKey, padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(md.digest().getBytes(), 'binary')]),
        ).toString('binary'),
    };
    p7.addSigner({
      key: nativeKey as unknown as forge.pki.rsa.PrivateKey,
      certificate: this.id.certificates[0],
      digestAlgorithm: forge.pki.oids.sha256,
      // Order matters to some validators (EU DSS): contentType, signingTime, messageDigest.
      authenticatedAttributes: [
        { type: forge.pki.oids.contentType, value: forge.pki.oids.data },
        { type: forge.pki.oids.signingTime, value: (signingTime ?? new Date()) as unknown as string },
        { type: forge.pki.oids.messageDigest },
      ],
    });
    p7.sign({ detached: true });
    const cms = p7.toAsn1();
    useOriginalIssuer(cms, this.id.certificates[0]);
    return Buffer.from(forge.asn1.toDer(cms).getBytes(), 'binary');
  }
}

/**
 * forge rebuilds the signer's issuer name from parsed attributes and encodes UTF8String values
 * twice ("Demostración" becomes "DemostraciÃ³n"), so verifiers cannot match the signer to its
 * certificate. The issuer is not covered by the signature: put back the certificate's own bytes.
 */
function useOriginalIssuer(cms: forge.asn1.Asn1, cert: forge.pki.Certificate): void {
  const tbs = (cert as unknown as { tbsCertificate?: forge.asn1.Asn1 }).tbsCertificate;
  if (!tbs || !Array.isArray(tbs.value)) return;
  const fields = tbs.value as forge.asn1.Asn1[];
  const issuer = fields[fields[0].tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 3 : 2];
  // ContentInfo → [0] → SignedData → last element: SET OF SignerInfo → SignerInfo → issuerAndSerialNumber
  const signedData = ((cms.value as forge.asn1.Asn1[])[1].value as forge.asn1.Asn1[])[0];
  const signerInfos = (signedData.value as forge.asn1.Asn1[]).at(-1)!;
  for (const info of signerInfos.value as forge.asn1.Asn1[]) {
    const issuerAndSerial = (info.value as forge.asn1.Asn1[])[1];
    (issuerAndSerial.value as forge.asn1.Asn1[])[0] = issuer;
  }
}

export class PdfSigner {
  private readonly signer: IdentitySigner;
  private readonly signpdf = new SignPdf();
  private readonly length: number;

  constructor(
    private readonly identity: PdfSigningIdentity,
    private readonly location: string,
  ) {
    this.signer = new IdentitySigner(identity);
    this.length = signatureLength(identity);
  }

  async sign(pdf: Buffer, opts: { reason: string; contact: string; signingTime: Date }): Promise<Buffer> {
    const withPlaceholder = plainAddPlaceholder({
      pdfBuffer: pdf,
      reason: opts.reason,
      contactInfo: opts.contact,
      name: this.identity.signerName,
      location: this.location,
      signingTime: opts.signingTime,
      signatureLength: this.length,
      subFilter: SUBFILTER_ADOBE_PKCS7_DETACHED,
      appName: 'LMS-certificates',
    });
    return this.signpdf.sign(withPlaceholder, this.signer, opts.signingTime);
  }
}
