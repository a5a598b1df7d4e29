/**
 * The demo's terminal output: a live block redrawn in place on a TTY, plain lines otherwise
 * (CI logs, pipes), so both read well.
 */
export interface Screen {
  /** Replace the live block (TTY) or print it when `force` / every `plainEvery` ms (no TTY). */
  live(lines: readonly string[], plain: string, force?: boolean): void
  /** A permanent line above the live block. */
  log(line: string): void
  /** Leave the live block as it is and stop redrawing. */
  end(): void
}

export function createScreen(out: NodeJS.WriteStream = process.stdout, plainEvery = 2000): Screen {
  const tty = out.isTTY === true && process.env.TERM !== 'dumb'
  let shown = 0
  let last: readonly string[] = []
  let lastPlain = 0
  const clear = () => {
    if (shown > 0) out.write(`\x1b[${shown}A\x1b[0J`)
    shown = 0
  }
  const draw = () => {
    out.write(last.map((l) => `${l}\n`).join(''))
    shown = last.length
  }
  return {
    live(lines, plain, force = false) {
      last = lines
      if (tty) {
        clear()
        draw()
      } else if (force || Date.now() - lastPlain >= plainEvery) {
        lastPlain = Date.now()
        out.write(plain + '\n')
      }
    },
    log(line) {
      if (tty) {
        clear()
        out.write(line + '\n')
        draw()
      } else out.write(line + '\n')
    },
    end() {
      shown = 0
    },
  }
}

/** `[#########-----------]  45%` */
export function bar(fraction: number, width = 30): string {
  const f = Math.max(0, Math.min(1, fraction))
  const full = Math.round(f * width)
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.floor(f * 100)).padStart(3)}%`
}
