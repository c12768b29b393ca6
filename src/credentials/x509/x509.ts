/**
 * The one entry point to @peculiar/x509. The library resolves its algorithm providers through
 * tsyringe, which needs the Reflect metadata polyfill loaded first, and it must be told which
 * WebCrypto to use; importing it through this module guarantees both, whatever imports first.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export * from '@peculiar/x509';
