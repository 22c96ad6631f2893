// Independent verifiers for microcred's credentials, run by the Python test suite.
//
// stdin: {"credentials": [<credential JSON or compact VC-JWT string>, ...],
//         "documents": {<URL or DID>: <document>, ...},
//         "verifiers": ["digitalbazaar", "verifier-core", "jose"],
//         "now": "<ISO date, optional>",
//         "jose": {<jwtVerify options, optional: typ, issuer, subject, requiredClaims...>}}
// stdout: {"results": [{"digitalbazaar": {...}, "verifier-core": {...}, "jose": {...}}, ...]}
//
// Nothing reaches the network: JSON-LD contexts come from the package's pinned copies
// (plugin/data/contexts, the files the tool itself uses) and every other URL or DID from
// "documents" (what the tool serves: DID documents, status lists, its extension context).
// verifier-core builds its own document loader with fetch, so globalThis.fetch is replaced
// by one answering from the same map (https:// and http:// forms of a URL both match,
// as did:web always resolves over https).
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', '..', 'plugin', 'data');

const input = JSON.parse(readFileSync(0, 'utf8'));
const documents = new Map(Object.entries(input.documents || {}));
for(const folder of ['contexts', 'schemas']) {
  // the pinned contexts and the OB 3.0 JSON Schema (verifier-core checks credentialSchema)
  const index = JSON.parse(readFileSync(join(dataDir, folder, 'index.json'), 'utf8'));
  for(const [url, file] of Object.entries(index)) {
    if(!documents.has(url)) {
      documents.set(url, JSON.parse(readFileSync(join(dataDir, folder, file), 'utf8')));
    }
  }
}

function didWebUrl(did) {
  // did:web:host%3Aport:path:to -> https://host:port/path/to/did.json
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts.shift();
  return `https://${host}/${parts.length ? parts.join('/') : '.well-known'}/did.json`;
}

function lookup(url) {
  const bare = url.split('#')[0];
  for(const candidate of [url, bare, bare.replace(/^https:/, 'http:'), bare.replace(/^http:/, 'https:')]) {
    if(documents.has(candidate)) {
      return documents.get(candidate);
    }
  }
  if(bare.startsWith('did:web:')) {
    return lookup(didWebUrl(bare));
  }
  return undefined;
}

const requested = [];
globalThis.fetch = async (resource, _options) => {
  const url = typeof resource === 'string' ? resource : (resource.url || String(resource));
  requested.push(url);
  const doc = lookup(url);
  if(doc === undefined) {
    return new Response(JSON.stringify({error: 'not found'}), {
      status: 404, statusText: 'Not Found', headers: {'content-type': 'application/json'}
    });
  }
  return new Response(JSON.stringify(doc), {
    status: 200, headers: {'content-type': 'application/ld+json'}
  });
};

function fragmentOf(doc, id) {
  // A verification method inside a DID document, as a document of its own.
  for(const key of ['verificationMethod', 'assertionMethod', 'authentication']) {
    for(const vm of doc[key] || []) {
      if(typeof vm === 'object' && (vm.id === id || (vm.id || '').endsWith(id.slice(id.indexOf('#'))))) {
        return {'@context': doc['@context'], ...vm};
      }
    }
  }
  return undefined;
}

async function documentLoader(url) {
  let doc = lookup(url);
  if(doc !== undefined && url.includes('#')) {
    doc = fragmentOf(doc, url) || doc;
  }
  if(doc === undefined) {
    throw new Error(`document not available offline: ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(doc)};
}

function summary(error) {
  if(!error) {
    return null;
  }
  const errors = error.errors || [error];
  return errors.map(e => e.message || String(e)).join('; ');
}

async function digitalbazaar(credential) {
  const vc = await import('@digitalbazaar/vc');
  const {DataIntegrityProof} = await import('@digitalbazaar/data-integrity');
  const {cryptosuite} = await import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const {checkStatus} = await import('@digitalbazaar/vc-bitstring-status-list');
  const suite = new DataIntegrityProof({cryptosuite});
  const options = {credential, suite, documentLoader};
  if(input.now) {
    options.now = new Date(input.now);
  }
  if(credential.credentialStatus) {
    options.checkStatus = checkStatus;
  }
  const result = await vc.verifyCredential(options);
  const status = result.statusResult;
  return {
    verified: result.verified,
    error: summary(result.error),
    // One bit per entry: true when that bit is set (the list says "revoked"/"suspended").
    status: status && status.verified ? (status.results || [status]).map(r => ({
      purpose: r.credentialStatus && r.credentialStatus.statusPurpose, set: r.status
    })) : null,
    statusError: status && !status.verified ? summary(status.error) : null
  };
}

function schemaResult(additionalInformation) {
  const entry = (additionalInformation || []).find(e => e.id === 'schema_check');
  if(!entry || !Array.isArray(entry.results)) {
    return null;
  }
  return entry.results.every(r => r.result && r.result.valid === true);
}

async function verifierCore(credential) {
  const {verifyCredential} = await import('@digitalcredentials/verifier-core');
  const result = await verifyCredential({credential, knownDIDRegistries: []});
  const log = result.log || [];
  const step = id => {
    const entry = log.find(e => e.id === id);
    return entry ? entry.valid : null;
  };
  return {
    errors: (result.errors || []).map(e => `${e.name}: ${e.message}`),
    signature: step('valid_signature'),
    expiration: step('expiration'),
    // verifier-core reports "valid: true" when the bit is NOT set.
    revocation: step('revocation_status'),
    suspension: step('suspension_status'),
    // a status list it could not use (not found, bad signature, wrong purpose...)
    statusError: ((log.find(e => e.error && /_status$/.test(e.id)) || {}).error || {}).message || null,
    // the OB 3.0 JSON Schema check it runs (true when every listed schema validates)
    schema: schemaResult(result.additionalInformation),
    log: log.map(e => ({id: e.id, valid: e.valid}))
  };
}

async function jose(token) {
  // jwtVerify checks the signature, then the JWT claims set: exp/nbf against the clock, and the
  // header typ, iss, sub and required claims the caller asks for (input.jose).
  const {jwtVerify, decodeProtectedHeader, importJWK, decodeJwt} = await import('jose');
  const header = decodeProtectedHeader(token);
  const payload = decodeJwt(token);
  const issuer = typeof payload.iss === 'string' ? payload.iss : (payload.issuer && payload.issuer.id) || payload.issuer;
  const did = lookup(header.kid) ? header.kid : issuer;
  const doc = lookup(header.kid) || lookup(issuer);
  if(!doc) {
    return {verified: false, error: `no document for kid ${header.kid}`, header, payload};
  }
  const vm = fragmentOf(doc, header.kid.includes('#') ? header.kid : `${did}#${header.kid}`) ||
    (doc.publicKeyJwk || doc.publicKeyMultibase ? doc : undefined);
  let jwk = vm && vm.publicKeyJwk;
  if(vm && !jwk && vm.publicKeyMultibase) {
    // An Ed25519 Multikey: digitalbazaar's ed25519-multikey gives its JWK.
    const Ed25519Multikey = await import('@digitalbazaar/ed25519-multikey');
    jwk = await Ed25519Multikey.toJwk({keyPair: await Ed25519Multikey.from(vm)});
  }
  if(!jwk) {
    return {verified: false, error: `no public key for kid ${header.kid}`, header, payload};
  }
  try {
    const key = await importJWK(jwk, header.alg);
    const options = {algorithms: ['RS256', 'EdDSA'], ...(input.jose || {})};
    if(input.now) {
      options.currentDate = new Date(input.now);
    }
    const verified = await jwtVerify(token, key, options);
    return {verified: true, error: null, header: verified.protectedHeader, payload: verified.payload};
  } catch(e) {
    return {verified: false, error: e.message, header, payload};
  }
}

const verifiers = input.verifiers || ['digitalbazaar', 'verifier-core'];
const results = [];
for(const credential of input.credentials) {
  const out = {};
  // A compact JWS goes to the JOSE verifier, a JSON credential to the Data Integrity ones.
  const applicable = verifiers.filter(name => (typeof credential === 'string') === (name === 'jose'));
  for(const name of applicable) {
    try {
      if(name === 'digitalbazaar') {
        out[name] = await digitalbazaar(credential);
      } else if(name === 'verifier-core') {
        out[name] = await verifierCore(credential);
      } else if(name === 'jose') {
        out[name] = await jose(credential);
      } else {
        out[name] = {error: `unknown verifier ${name}`};
      }
    } catch(e) {
      out[name] = {crashed: true, error: e && e.stack ? e.stack : String(e)};
    }
  }
  results.push(out);
}
process.stdout.write(JSON.stringify({results, requested}));
