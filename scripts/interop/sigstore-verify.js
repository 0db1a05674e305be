// Independent check of an mcpseal bundle with npm's @sigstore/verify, as a real consumer would:
// the library verifies the DSSE signature with the key the bundle's hint names; it does not
// compare the in-toto subject with the artifact, so this driver does.
// Usage: node sigstore-verify.js BUNDLE PUBLIC_KEY.pem ARTIFACT   (exit 0 verified, 1 refused)
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');

function main() {
  const [bundlePath, keyPath, artifactPath] = process.argv.slice(2);
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const key = crypto.createPublicKey(fs.readFileSync(keyPath));
  const keyId = crypto.createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('base64');
  const emptyRoot = { tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };
  const trust = toTrustMaterial(emptyRoot, (hint) => {
    if (hint !== keyId) throw new Error(`bundle names key ${hint}, expected ${keyId}`);
    return { publicKey: key, validFor: () => true };
  });
  // Key-based bundles carry no transparency-log entry or timestamp; mcpseal works offline.
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));
  const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
  const digest = crypto.createHash('sha256').update(fs.readFileSync(artifactPath)).digest('hex');
  if (!statement.subject.some((s) => s.digest && s.digest.sha256 === digest)) {
    throw new Error(`artifact sha256 ${digest} is not among the signed subjects`);
  }
}

try {
  main();
  console.log('verified');
} catch (e) {
  console.log(`refused: ${e.message}`);
  process.exit(1);
}
