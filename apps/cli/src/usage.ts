export const USAGE = `glidepath — Glidepath from a pipeline or a terminal

Configuration: GLIDEPATH_URL and GLIDEPATH_TOKEN (a service-account token), or --url and --token.

Commands:
  artifact register --service S --version V --digest sha256:… [--commit SHA] [--build-url URL] [--meta key=value …]
  plan apply FILE.yaml [--name NAME] [--dry-run]     validate, show the difference from the stored version, save
  release create --service S --environment E --version V --plan P [--plan-version N] [--reason TEXT]
                 [--wait [--timeout 30m]]           --wait: follow it to its outcome; the exit code is the verdict
  release wait ID [--timeout 30m]                   follow a release to its outcome
  release get ID
  release list [--service S] [--environment E] [--phase P] [--limit N]
  release watch ID                                  like wait, without a timeout
  release pause|resume|promote|abort|rollback ID [--reason TEXT]
                 rollback of a succeeded release: traffic back to the previous slot at once while it is kept,
                 otherwise a release of the version before it (printed, with the release it undoes)
  release retry ID --from-step N [--reason TEXT]
  release approve ID [--comment TEXT]
  release reject ID --comment TEXT
  drill run --service S --environment E [--reason TEXT] [--wait [--timeout 30m]]
                 rehearse a rollback: the live version to the idle slot, a small weight, then all traffic back;
                 --wait: exit 0 when it rolled back (slow or not), 1 when it failed
  drill list --service S --environment E [--limit N]   drills, newest first, with their time to rollback

Every command takes --json (one JSON document on stdout, nothing else) and --help.

Exit codes:
  0  succeeded (or the command did what it was asked)
  1  the release failed or was rolled back
  2  usage: unknown command or flag, missing configuration
  3  the release was aborted
  4  gave up waiting (--timeout); the release goes on
  5  refused by Glidepath (4xx); the message says why
  6  Glidepath unreachable, or failing (5xx)
`;
