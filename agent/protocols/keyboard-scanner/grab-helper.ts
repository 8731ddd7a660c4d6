/**
 * The small reader process behind a keyboard-mode scanner.
 *
 * Node cannot issue the EVIOCGRAB ioctl that keeps a scanner's key presses
 * away from the console and other programs, and a grab only holds for the
 * file descriptor that made it: so the process that grabs must also be the
 * one that reads. The agent therefore starts `python3 -c <this script>`,
 * which opens the device, grabs it, and copies the raw input events to its
 * standard output; the agent decodes them. The grab ends by itself when the
 * helper exits (its descriptor closes), and the helper exits when the agent
 * closes its standard input, dies (parent-death signal), or the device goes
 * away (read error ENODEV on unplug).
 *
 * Protocol on standard error, one line each: `ready` once the device is open
 * (and grabbed); `error <what> <message>` before a non-zero exit.
 */

/** EVIOCGRAB = _IOW('E', 0x90, int). */
export const EVIOCGRAB = 0x40044590;

/** Read size: a whole number of 16- and 24-byte event records. */
const READ_BYTES = 4080;

export const GRAB_HELPER_SCRIPT = `
import os, sys, select
path, grab = sys.argv[1], sys.argv[2] == '1'
def fail(what, err, code):
    sys.stderr.write('error %s %s\\n' % (what, err.strerror or err))
    sys.stderr.flush()
    sys.exit(code)
try:
    import ctypes
    ctypes.CDLL(None).prctl(1, 15, 0, 0, 0)  # PR_SET_PDEATHSIG = SIGTERM: end with the agent
except Exception:
    pass
try:
    fd = os.open(path, os.O_RDONLY)
except OSError as e:
    fail('open', e, 2)
if grab:
    import fcntl
    try:
        fcntl.ioctl(fd, ${EVIOCGRAB}, 1)
    except OSError as e:
        fail('grab', e, 3)
sys.stderr.write('ready\\n')
sys.stderr.flush()
out = sys.stdout.buffer
stdin = sys.stdin.fileno()
while True:
    ready = select.select([fd, stdin], [], [])[0]
    if stdin in ready and not os.read(stdin, 512):
        sys.exit(0)
    if fd in ready:
        try:
            data = os.read(fd, ${READ_BYTES})
        except OSError as e:
            fail('read', e, 4)
        if not data:
            sys.stderr.write('error read end of input\\n')
            sys.stderr.flush()
            sys.exit(5)
        out.write(data)
        out.flush()
`;

/** Arguments for `spawn(python, args)`. */
export function grabHelperArgs(path: string, grab: boolean): string[] {
  return ['-c', GRAB_HELPER_SCRIPT, path, grab ? '1' : '0'];
}
