#!/usr/bin/env node
// TLS check from Node's @grpc/grpc-js: GetModelStatus over TLS with a bearer token succeeds,
// without the token it is UNAUTHENTICATED, and a plaintext channel to the TLS port fails.
//
//   node tls_check.js HOST:PORT CA.pem TOKEN
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, caFile, token] = process.argv.slice(2);
const PROTO_DIR = path.join(__dirname, '..', '..', '..', 'proto');
const v1 = grpc.loadPackageDefinition(protoLoader.loadSync('perfcast/v1/perfcast.proto', {
  keepCase: true, longs: Number, enums: String, defaults: true, includeDirs: [PROTO_DIR],
})).perfcast.v1;

function status(client, metadata) {
  return new Promise((resolve, reject) => {
    client.GetModelStatus({}, metadata, {deadline: new Date(Date.now() + 10000)},
                          (error, response) => (error ? reject(error) : resolve(response)));
  });
}

async function main() {
  const tls = new v1.ModelService(target, grpc.credentials.createSsl(fs.readFileSync(caFile)));
  const authorized = new grpc.Metadata();
  authorized.set('authorization', `Bearer ${token}`);
  const response = await status(tls, authorized);
  assert.ok(response.stored_result_count > 0, 'stored_result_count over TLS');

  const anonymous = await status(tls, new grpc.Metadata()).then(
      () => assert.fail('no token: succeeded'), (error) => error);
  assert.equal(anonymous.code, grpc.status.UNAUTHENTICATED, anonymous.message);

  const plain = new v1.ModelService(target, grpc.credentials.createInsecure());
  const refused = await status(plain, authorized).then(
      () => assert.fail('plaintext to the TLS port: succeeded'), (error) => error);
  assert.equal(refused.code, grpc.status.UNAVAILABLE, refused.message);
  tls.close();
  plain.close();
  console.log('tls_check: ok');
}

main().catch((error) => {
  console.error(`tls_check: ${error.stack || error}`);
  process.exit(1);
});
