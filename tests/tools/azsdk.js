#!/usr/bin/env node
// tests/tools/azsdk.js - the Azure Blob side of the azblob:// tests, through
// Microsoft's own SDK (@azure/storage-blob), never through our code:
//   azsdk.js mkcontainer CONTAINER
//   azsdk.js ls CONTAINER [PREFIX]          committed blobs: "name size" lines
//   azsdk.js uncommitted CONTAINER BLOB     uncommitted blocks of a blob (count)
//   azsdk.js get CONTAINER BLOB FILE        download a blob to FILE
//   azsdk.js put CONTAINER BLOB FILE        upload FILE as a block blob (overwrites)
//   azsdk.js sas CONTAINER PERMS MINUTES    a container SAS token (e.g. "racwdl")
// The account comes from AZURE_STORAGE_CONNECTION_STRING.
const { BlobServiceClient, StorageSharedKeyCredential, generateBlobSASQueryParameters,
        ContainerSASPermissions } = require("@azure/storage-blob");
const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
const svc = BlobServiceClient.fromConnectionString(cs);
const part = (k) => (cs.split(";").find((p) => p.startsWith(k + "=")) || "").slice(k.length + 1);
async function main() {
  const [cmd, c, a, b] = process.argv.slice(2);
  const cont = svc.getContainerClient(c);
  switch (cmd) {
  case "mkcontainer": await cont.create(); break;
  case "ls":
    for await (const x of cont.listBlobsFlat({ prefix: a || "" }))
      console.log(`${x.name} ${x.properties.contentLength}`);
    break;
  case "uncommitted": {
    const l = await cont.getBlockBlobClient(a).getBlockList("uncommitted");
    console.log((l.uncommittedBlocks || []).length);
    break;
  }
  case "get": await cont.getBlockBlobClient(a).downloadToFile(b); break;
  case "put": await cont.getBlockBlobClient(a).uploadFile(b); break;
  case "sas": {
    const cred = new StorageSharedKeyCredential(part("AccountName"), part("AccountKey"));
    const q = generateBlobSASQueryParameters({ containerName: c, permissions: ContainerSASPermissions.parse(a),
      expiresOn: new Date(Date.now() + Number(b) * 60000) }, cred);
    console.log(q.toString());
    break;
  }
  default: throw new Error("unknown command " + cmd);
  }
}
main().catch((e) => { console.error(String(e.message || e)); process.exit(1); });
