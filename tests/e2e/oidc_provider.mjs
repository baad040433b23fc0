// A certified OpenID provider (the `oidc-provider` npm package) for the end-to-end authentication test.
// Usage: node oidc_provider.mjs <path to oidc-provider/lib/index.js>
// Prints `ready <issuer>` once listening on an ephemeral 127.0.0.1 port.
// Clients (client-credentials grant, resource = the gateway's MCP URL):
//   tes-mcp-client / tes-secret  - the gateway's own client, used for introspection
//   opaque-agent / agent-secret  - gets opaque access tokens (checked by introspection)
//   jwt-agent / agent-secret     - gets JWT access tokens (checked against the JWKS)
import http from 'node:http';
import crypto from 'node:crypto';

const { default: Provider } = await import(process.argv[2]);
const RESOURCE = process.env.RESOURCE || 'http://localhost:8000/mcp';

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: 'jwk' }), kid: 'op-rsa-1', alg: 'RS256', use: 'sig' };

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const client = (id, secret) => ({
    client_id: id,
    client_secret: secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'logs:read',
  });
  const provider = new Provider(issuer, {
    clients: [
      client('tes-mcp-client', 'tes-secret'),
      client('opaque-agent', 'agent-secret'),
      client('jwt-agent', 'agent-secret'),
    ],
    jwks: { keys: [signing] },
    scopes: ['logs:read'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, oidcClient) => ({
          scope: 'logs:read',
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: oidcClient.clientId === 'jwt-agent' ? 'jwt' : 'opaque',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  server.on('request', provider.callback());
  console.log(`ready ${issuer}`);
});
