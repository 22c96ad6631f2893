// Independent check of JAdES seals (JWS JSON serialization, unencoded payload) with npm `jose`.
// stdin: {"sealed": [<JWS JSON object>, ...]}; stdout: {"results": [{"verified": bool, "error"?: str}]}.
// The key comes from the first x5c certificate; `sigT` is declared understood (crit), `b64` is
// handled by jose itself (RFC 7797).
import { generalVerify, flattenedVerify, importX509, decodeProtectedHeader } from "jose";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => { data += c; });
  process.stdin.on("end", () => resolve(data));
}));

async function check(jws) {
  try {
    const first = jws.signatures ? jws.signatures[0] : jws;
    const header = decodeProtectedHeader(first);
    const der = header.x5c[0].match(/.{1,64}/g).join("\n");
    const key = await importX509(`-----BEGIN CERTIFICATE-----\n${der}\n-----END CERTIFICATE-----`, header.alg);
    const options = { crit: { sigT: true, adoTst: true, sigTst: true }, algorithms: [header.alg] };
    const result = jws.signatures ? await generalVerify(jws, key, options) : await flattenedVerify(jws, key, options);
    const payload = new TextDecoder().decode(result.payload);
    return { verified: true, alg: result.protectedHeader.alg, payloadMatches: payload === jws.payload };
  } catch (e) {
    return { verified: false, error: `${e.code || e.name}: ${e.message}` };
  }
}

const results = [];
for (const jws of input.sealed) results.push(await check(jws));
process.stdout.write(JSON.stringify({ results }));
