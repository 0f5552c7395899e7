// An independent client (openid-client) authenticates with private_key_jwt
// (RFC 7523) at the token, introspection and revocation endpoints.
// Usage: node private_key_jwt.mjs <issuer> <client_id> <private JWK as JSON>
import * as client from 'openid-client';

const [issuer, clientId, privateJwk] = process.argv.slice(2);
const jwk = JSON.parse(privateJwk);
const key = await crypto.subtle.importKey(
  'jwk', jwk, { name: 'ECDSA', namedCurve: jwk.crv }, false, ['sign'],
);
const insecure = { execute: [client.allowInsecureRequests] };
const config = await client.discovery(
  new URL(issuer), clientId, undefined, client.PrivateKeyJwt({ key, kid: jwk.kid }), insecure,
);
const tokens = await client.clientCredentialsGrant(config);
const active = await client.tokenIntrospection(config, tokens.access_token);
await client.tokenRevocation(config, tokens.access_token);
const after = await client.tokenIntrospection(config, tokens.access_token);
console.log(JSON.stringify({
  token_type: tokens.token_type,
  access_token: tokens.access_token,
  introspected: active,
  after_revocation: after,
}));
