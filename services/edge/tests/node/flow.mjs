// An independent relying party (openid-client) runs the whole flow against the
// edge: discovery -> authorization code + PKCE -> token -> userinfo -> refresh
// -> RP-initiated logout. The browser part (login form) is driven with fetch.
// Usage: node flow.mjs <issuer> <client_id> <client_secret> <redirect_uri>
//        <post_logout_redirect_uri> <username> <password>
import * as client from 'openid-client';

const [issuer, clientId, clientSecret, redirectUri, postLogout, username, password] =
  process.argv.slice(2);
const insecure = { execute: [client.allowInsecureRequests] };

const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, insecure);
const verifier = client.randomPKCECodeVerifier();
const challenge = await client.calculatePKCECodeChallenge(verifier);
const state = client.randomState();
const nonce = client.randomNonce();
const authorizeUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state,
  nonce,
});

// The browser: authorize -> login page -> local login -> back to authorize -> callback.
// A cookie jar by name, as a browser keeps one (a login sets several cookies).
const jar = new Map();
async function browse(url, init = {}) {
  const cookie = [...jar.values()].join('; ');
  const headers = { ...(init.headers || {}), ...(cookie ? { cookie } : {}) };
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  const set = response.headers.getSetCookie ? response.headers.getSetCookie() : [];
  for (const c of set) {
    const pair = c.split(';')[0];
    jar.set(pair.slice(0, pair.indexOf('=')), pair);
  }
  return response;
}
let response = await browse(authorizeUrl);
if (response.status !== 303) throw new Error(`authorize: expected 303, got ${response.status}`);
const loginUrl = new URL(response.headers.get('location'), authorizeUrl);
const loginPage = await (await browse(loginUrl)).text();
const field = (name) => new RegExp(`name='${name}' value='([^']*)'`).exec(loginPage)[1]
  .replaceAll('&amp;', '&').replaceAll('&#x27;', "'").replaceAll('&#39;', "'");
response = await browse(new URL('login/local', loginUrl), {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    username, password, return_to: field('return_to'), csrf: field('csrf'),
  }).toString(),
});
if (response.status !== 303) throw new Error(`login: expected 303, got ${response.status}`);
response = await browse(response.headers.get('location'));
if (response.status !== 302) throw new Error(`authorize again: expected 302, got ${response.status}`);
const callback = new URL(response.headers.get('location'));

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const idClaims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const endSession = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogout,
  state: 'bye',
});
response = await browse(endSession);
const afterLogout = await browse(client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid',
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state: client.randomState(),
  nonce: client.randomNonce(),
  prompt: 'none',
}));

console.log(JSON.stringify({
  id_token_claims: idClaims,
  userinfo,
  access_token: tokens.access_token,
  refreshed_access_token: refreshed.access_token,
  refresh_rotated: refreshed.refresh_token !== tokens.refresh_token,
  logout_status: response.status,
  logout_location: response.headers.get('location'),
  after_logout_status: afterLogout.status,
  after_logout_location: afterLogout.headers.get('location'),
}));
