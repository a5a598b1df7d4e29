import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** TLS material as PEM text (not file names), the way Node's `tls` takes it. */
export interface TlsInit {
  readonly cert: string
  readonly key: string
  /**
   * The CA the dialling side trusts for the server's certificate (a self-signed one: itself).
   * Not used when listening: uWebSockets.js 20.30 does not require client certificates, and peers
   * prove themselves by the transport's HMAC handshake.
   */
  readonly ca?: string
  /** Verify the server's certificate when dialling. Default `true`. */
  readonly rejectUnauthorized?: boolean
}

export interface PemFiles {
  readonly cert_file_name: string
  readonly key_file_name: string
}

/**
 * uWebSockets.js reads TLS material only from files, and only while `SSLApp` is constructed, so
 * the PEM text lives in a private temporary directory for exactly that long.
 */
export function withPemFiles<T>(tls: TlsInit, use: (files: PemFiles) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-tls-'))
  try {
    const write = (name: string, text: string): string => {
      const path = join(dir, name)
      writeFileSync(path, text, { mode: 0o600 })
      return path
    }
    const files: PemFiles = {
      cert_file_name: write('cert.pem', tls.cert),
      key_file_name: write('key.pem', tls.key),
    }
    return use(files)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
