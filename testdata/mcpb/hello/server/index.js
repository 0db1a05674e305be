// A stand-in server entry for the test bundle: the MCPB tests sign and verify the bundle's
// bytes; nothing runs this file.
console.log("hello-mcpb");
