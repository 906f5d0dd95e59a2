// @sluice/testing: support for integration tests that several apps share.
export { TcpProxy } from './tcp-proxy';
export { freePort } from './free-port';
