#!/usr/bin/env node
// The demo's deploy command, run by Glidepath's command deployer on the worker's host (this
// directory is in GLIDEPATH_DEPLOY_COMMAND_DIRS when Glidepath runs with --demo). It asks the demo
// stack's deploy agent (demo/stack.ts, a unix socket) to put the build Glidepath names on a slot,
// which replaces the sample app on that slot's port, or to take it off:
//
//   GLIDEPATH_ACTION=deploy|remove GLIDEPATH_SLOT=blue GLIDEPATH_VERSION=1.1.0 GLIDEPATH_DIGEST=sha256:…
//   DEMO_DEPLOY_SOCKET=/tmp/gp-demo-…/deploy.sock DEMO_ENVIRONMENT=dev
//
// Exit 0 once the agent says it is done; otherwise 1 with why on stderr (Glidepath's reason for
// the failed deploy). Readiness is then Glidepath's own health check: the slot's /healthz must
// serve the digest asked.
import http from 'node:http';

const env = process.env;
const action = env.GLIDEPATH_ACTION;
const missing = ['GLIDEPATH_ACTION', 'GLIDEPATH_SLOT', 'DEMO_DEPLOY_SOCKET', 'DEMO_ENVIRONMENT'].filter((name) => !env[name]);
if (action === 'deploy' && !env.GLIDEPATH_DIGEST) missing.push('GLIDEPATH_DIGEST');
if (missing.length) {
  console.error(`sample-app-deploy: ${missing.join(', ')} not set`);
  process.exit(1);
}
if (action !== 'deploy' && action !== 'remove') {
  console.error(`sample-app-deploy: GLIDEPATH_ACTION must be deploy or remove, got ${action}`);
  process.exit(1);
}

const path = `/slots/${encodeURIComponent(env.DEMO_ENVIRONMENT)}/${encodeURIComponent(env.GLIDEPATH_SLOT)}`;
const body = action === 'deploy' ? JSON.stringify({ version: env.GLIDEPATH_VERSION, digest: env.GLIDEPATH_DIGEST }) : '';
const what =
  action === 'deploy'
    ? `${env.GLIDEPATH_VERSION} (${env.GLIDEPATH_DIGEST.slice(0, 19)}…) onto ${env.DEMO_ENVIRONMENT}/${env.GLIDEPATH_SLOT}`
    : `what is on ${env.DEMO_ENVIRONMENT}/${env.GLIDEPATH_SLOT}`;
console.log(`${action === 'deploy' ? 'deploying' : 'removing'} ${what} (deployment ${env.GLIDEPATH_DEPLOYMENT_ID ?? '?'})`);

const request = http.request(
  {
    socketPath: env.DEMO_DEPLOY_SOCKET,
    path,
    method: action === 'deploy' ? 'PUT' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    timeout: 90_000,
  },
  (response) => {
    let text = '';
    response.setEncoding('utf8').on('data', (chunk) => (text += chunk));
    response.on('end', () => {
      let answer = {};
      try {
        answer = JSON.parse(text);
      } catch {
        answer = { error: text.trim() };
      }
      if (response.statusCode !== 200) {
        console.error(`the demo stack refused: ${answer.error ?? response.statusCode}`);
        process.exit(1);
      }
      console.log(action === 'deploy' ? `${answer.version} now runs on ${env.GLIDEPATH_SLOT} (port ${answer.port})` : `slot ${env.GLIDEPATH_SLOT} is empty`);
    });
  },
);
request.on('timeout', () => request.destroy(new Error('no answer within 90 s')));
request.on('error', (error) => {
  console.error(`the demo stack's deploy agent at ${env.DEMO_DEPLOY_SOCKET} cannot be reached: ${error.message} (is the demo still running?)`);
  process.exit(1);
});
request.end(body);
