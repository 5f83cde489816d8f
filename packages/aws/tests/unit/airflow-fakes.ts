// A stand-in for the Airflow and MWAA HTTP APIs on 127.0.0.1, with request shapes from their
// public docs: Airflow 2's stable REST API (/api/v1, basic auth), Airflow 3's (/auth/token,
// /api/v2, bearer JWT), MWAA's CreateCliToken and CLI endpoint (/aws_mwaa/cli), and MWAA's
// InvokeRestApi. Shared by the adapter tests and the lambda-trigger example's tests.
import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request the server received. */
export interface RecordedRequest {
  readonly route: Route;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** A DAG run the server holds. */
export interface FakeRun {
  readonly dagId: string;
  readonly runId: string;
  readonly conf: unknown;
  /** The route that created it. */
  readonly via: Route;
}

export type Route = "v1" | "v2" | "token" | "clitoken" | "cli" | "restapi" | "other";

/** A scripted fault: the next request on its route answers `status`, or waits `delayMs` first. */
export type Fault =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  | { readonly delayMs: number };

export interface FakeAirflowOptions {
  readonly username?: string;
  readonly password?: string;
  /** DAGs that exist. @default ["music_streaming_pipeline"] */
  readonly dags?: readonly string[];
  /** Credentials the MWAA API accepts. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly region?: string;
  /** MWAA InvokeRestApi forwards to this API version (v2 requires logical_date). @default "v1" */
  readonly restApiVersion?: "v1" | "v2";
}

export interface FakeAirflow {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`, the `WebServerHostname` CreateCliToken returns. */
  readonly host: string;
  readonly requests: RecordedRequest[];
  readonly runs: Map<string, FakeRun>;
  /** Queues faults for the next requests on `route`, in order. */
  fail(route: Route, ...faults: Fault[]): void;
  /** Invalidates every bearer token issued so far (Airflow 3 JWTs and MWAA CLI tokens). */
  expireTokens(): void;
  /** Requests on `route`. */
  count(route: Route): number;
  close(): Promise<void>;
}

export const FAKE_DEFAULTS = {
  username: "airflow-user",
  password: "s3cr3t p@ss:word",
  accessKeyId: "AKIDFAKEEXAMPLE",
  secretAccessKey: "fake/secret+KEY",
  region: "eu-west-1",
} as const;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

const problem = (res: ServerResponse, status: number, title: string, detail: string) =>
  json(res, status, { type: "about:blank", title, status, detail });

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function routeOf(method: string, path: string): Route {
  if (method !== "POST") return "other";
  if (/^\/api\/v1\/dags\/[^/]+\/dagRuns$/.test(path)) return "v1";
  if (/^\/api\/v2\/dags\/[^/]+\/dagRuns$/.test(path)) return "v2";
  if (path === "/auth/token") return "token";
  if (/^\/clitoken\/[^/]+$/.test(path)) return "clitoken";
  if (path === "/aws_mwaa/cli") return "cli";
  if (/^\/restapi\/[^/]+$/.test(path)) return "restapi";
  return "other";
}

/**
 * Python's `shlex.split(s)` (POSIX mode, no comments): what MWAA's CLI endpoint does to the
 * body. Single quotes keep everything; in double quotes `\` escapes only `\` and `"`.
 */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error("No closing quotation");
      token = (token ?? "") + s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      token ??= "";
      for (i++; ; i++) {
        if (i >= s.length) throw new Error("No closing quotation");
        const d = s[i] as string;
        if (d === '"') break;
        if (d === "\\" && (s[i + 1] === '"' || s[i + 1] === "\\")) {
          token += s[i + 1];
          i++;
        } else token += d;
      }
    } else if (c === "\\") {
      if (i + 1 >= s.length) throw new Error("No escaped character");
      token = (token ?? "") + s[i + 1];
      i++;
    } else if (/\s/.test(c)) {
      if (token !== undefined) out.push(token);
      token = undefined;
    } else token = (token ?? "") + c;
  }
  if (token !== undefined) out.push(token);
  return out;
}

const hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/**
 * Checks a SigV4 signature from scratch (no AWS library): the Authorization header's shape,
 * the credential scope, and the signature over the canonical request. Returns why it fails.
 */
export function verifySigV4(
  req: { method: string; path: string; headers: IncomingMessage["headers"]; body: string },
  keys: { accessKeyId: string; secretAccessKey: string; region: string; service: string },
): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth !== "string") return "no Authorization header";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (m === null) return `malformed Authorization header: ${auth}`;
  const [, akid, day, region, service, signedHeaders, signature] = m as unknown as string[];
  if (akid !== keys.accessKeyId) return "unknown access key";
  if (region !== keys.region || service !== keys.service) return `wrong scope ${region}/${service}`;
  const amzDate = req.headers["x-amz-date"];
  if (typeof amzDate !== "string" || !/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(day as string)) {
    return "bad x-amz-date";
  }
  const names = (signedHeaders as string).split(";");
  if (!names.includes("host") || !names.includes("x-amz-date")) return "host and x-amz-date must be signed";
  const canonicalHeaders = names
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const canonical = [
    req.method,
    req.path.split("/").map(encodeURIComponent).join("/"),
    "",
    canonicalHeaders,
    signedHeaders,
    hex(req.body),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, hex(canonical)].join("\n");
  let key = hmac(`AWS4${keys.secretAccessKey}`, day as string);
  for (const part of [region as string, service as string, "aws4_request"]) key = hmac(key, part);
  const expected = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
  return expected === signature ? undefined : "signature does not match";
}

/** Starts the stand-in on a free port of 127.0.0.1. */
export async function startFakeAirflow(options: FakeAirflowOptions = {}): Promise<FakeAirflow> {
  const username = options.username ?? FAKE_DEFAULTS.username;
  const password = options.password ?? FAKE_DEFAULTS.password;
  const dags = new Set(options.dags ?? ["music_streaming_pipeline"]);
  const aws = {
    accessKeyId: options.accessKeyId ?? FAKE_DEFAULTS.accessKeyId,
    secretAccessKey: options.secretAccessKey ?? FAKE_DEFAULTS.secretAccessKey,
    region: options.region ?? FAKE_DEFAULTS.region,
    service: "airflow",
  };
  const restApiVersion = options.restApiVersion ?? "v1";
  const requests: RecordedRequest[] = [];
  const runs = new Map<string, FakeRun>();
  const faults = new Map<Route, Fault[]>();
  let jwts = new Set<string>();
  let cliTokens = new Set<string>();
  let host = "";

  /** Airflow's "create a DAG run", shared by v1, v2, the CLI and InvokeRestApi. */
  const createRun = (
    via: Route,
    dagId: string,
    runId: unknown,
    conf: unknown,
  ): { status: 200 | 404 | 409 | 400; detail: string } => {
    if (!dags.has(dagId)) return { status: 404, detail: `DAG with dag_id: '${dagId}' not found` };
    if (typeof runId !== "string" || !/^[A-Za-z0-9_.~:+-]+$/.test(runId)) {
      return { status: 400, detail: "dag_run_id is invalid" };
    }
    if (conf !== undefined && (conf === null || typeof conf !== "object" || Array.isArray(conf))) {
      return { status: 400, detail: "conf must be an object" };
    }
    const id = `${dagId}/${runId}`;
    if (runs.has(id)) {
      return {
        status: 409,
        detail: `DAGRun with DAG ID: '${dagId}' and DAGRun ID: '${runId}' already exists`,
      };
    }
    runs.set(id, { dagId, runId, conf: conf ?? {}, via });
    return { status: 200, detail: "" };
  };

  /** Checks the body of a v1 (`{dag_run_id, conf}`) or v2 (`{dag_run_id, logical_date, conf}`) call. */
  const dagRunBody = (version: "v1" | "v2", body: unknown): string | undefined => {
    if (body === null || typeof body !== "object") return "body must be a JSON object";
    const allowed =
      version === "v1"
        ? ["dag_run_id", "conf", "logical_date", "note"]
        : ["dag_run_id", "conf", "logical_date", "note", "data_interval_start", "data_interval_end"];
    for (const field of Object.keys(body)) if (!allowed.includes(field)) return `Unknown field: ${field}`;
    if (version === "v2" && !("logical_date" in body)) return "Field required: logical_date";
    return undefined;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] as string;
      const method = req.method ?? "GET";
      const route = routeOf(method, path);
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ route, method, path, headers: req.headers, body });
      const fault = faults.get(route)?.shift();
      const answer = () => handle(route, method, path, body, req, res);
      if (fault === undefined) return answer();
      if ("delayMs" in fault) {
        const timer = setTimeout(answer, fault.delayMs);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      json(res, fault.status, fault.body ?? { title: "Injected fault", status: fault.status }, fault.headers);
    });
  });

  const handle = (
    route: Route,
    method: string,
    path: string,
    body: string,
    req: IncomingMessage,
    res: ServerResponse,
  ) => {
    if (res.destroyed) return;
    let parsed: unknown;
    const parseJson = () => {
      try {
        parsed = JSON.parse(body);
        return true;
      } catch {
        problem(res, 400, "Bad Request", "body is not JSON");
        return false;
      }
    };
    switch (route) {
      case "v1": {
        const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
        if (req.headers.authorization !== expected) return problem(res, 401, "Unauthorized", "Unauthorized");
        if (!parseJson()) return;
        const wrong = dagRunBody("v1", parsed);
        if (wrong !== undefined) return problem(res, 400, "Bad Request", wrong);
        const dagId = decodeURIComponent(path.split("/")[4] as string);
        const { dag_run_id, conf } = parsed as { dag_run_id?: unknown; conf?: unknown };
        const made = createRun("v1", dagId, dag_run_id, conf);
        if (made.status !== 200) return problem(res, made.status, "Error", made.detail);
        return json(res, 200, { dag_id: dagId, dag_run_id, conf, state: "queued" });
      }
      case "token": {
        if (!parseJson()) return;
        const given = parsed as { username?: unknown; password?: unknown };
        if (given.username !== username || given.password !== password) {
          return json(res, 401, { detail: "Invalid credentials" });
        }
        const token = `jwt.${randomUUID()}`;
        jwts.add(token);
        return json(res, 201, { access_token: token, token_type: "bearer" });
      }
      case "v2": {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (token === undefined || !jwts.has(token)) return json(res, 401, { detail: "Not authenticated" });
        if (!parseJson()) return;
        const wrong = dagRunBody("v2", parsed);
        if (wrong !== undefined) return json(res, 422, { detail: [{ msg: wrong }] });
        const dagId = decodeURIComponent(path.split("/")[4] as string);
        const { dag_run_id, conf } = parsed as { dag_run_id?: unknown; conf?: unknown };
        const made = createRun("v2", dagId, dag_run_id, conf);
        if (made.status !== 200) return json(res, made.status, { detail: made.detail });
        return json(res, 200, { dag_id: dagId, dag_run_id, conf, state: "queued", logical_date: null });
      }
      case "clitoken": {
        const why = verifySigV4({ method, path, headers: req.headers, body }, aws);
        if (why !== undefined) {
          return json(res, 403, { message: why }, { "x-amzn-errortype": "AccessDeniedException" });
        }
        const token = `cli-${randomUUID()}`;
        cliTokens.add(token);
        return json(res, 200, { CliToken: token, WebServerHostname: host });
      }
      case "cli": {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (token === undefined || !cliTokens.has(token)) return json(res, 403, { message: "Forbidden" });
        if (!String(req.headers["content-type"]).startsWith("text/plain")) {
          return json(res, 415, { message: "Unsupported Media Type" });
        }
        const cli = (stdout: string, stderr: string) =>
          json(res, 200, { stdout: b64(stdout), stderr: b64(stderr) });
        // Airflow prints warnings on stderr even when a command succeeds.
        const warning =
          "/usr/local/lib/python3.11/site-packages/airflow/configuration.py: DeprecationWarning: x\n";
        let argv: string[];
        try {
          argv = shlexSplit(body);
        } catch (error) {
          return cli("", `${warning}ValueError: ${(error as Error).message}\n`);
        }
        // Exactly `dags trigger DAG --run-id RUN --conf JSON`: anything else is an injection.
        const [a, b, dagId, runFlag, runId, confFlag, confJson, ...rest] = argv;
        if (
          a !== "dags" ||
          b !== "trigger" ||
          runFlag !== "--run-id" ||
          confFlag !== "--conf" ||
          rest.length > 0 ||
          dagId === undefined ||
          runId === undefined ||
          confJson === undefined ||
          runId.startsWith("-")
        ) {
          return cli(
            "",
            `${warning}airflow dags trigger: error: unrecognized arguments: ${argv.join(" ")}\n`,
          );
        }
        let conf: unknown;
        try {
          conf = JSON.parse(confJson);
        } catch {
          return cli("", `${warning}airflow.exceptions.AirflowException: --conf is not valid JSON\n`);
        }
        const made = createRun("cli", dagId, runId, conf);
        if (made.status === 409) {
          return cli(
            "",
            `${warning}Traceback (most recent call last):\n  File "airflow", line 8\nairflow.exceptions.DagRunAlreadyExists: A Dag Run already exists for dag id ${dagId} at 2025-06-22T10:00:00+00:00 with run id ${runId}\n`,
          );
        }
        if (made.status === 404) {
          return cli("", `${warning}airflow.exceptions.DagNotFound: Dag id ${dagId} not found in DagModel\n`);
        }
        if (made.status !== 200)
          return cli("", `${warning}airflow.exceptions.AirflowException: ${made.detail}\n`);
        return cli(
          `Created <DagRun ${dagId} @ 2025-06-22: ${runId}, state:queued, queued_at: None>\n`,
          warning,
        );
      }
      case "restapi": {
        const why = verifySigV4({ method, path, headers: req.headers, body }, aws);
        if (why !== undefined) {
          return json(res, 403, { message: why }, { "x-amzn-errortype": "AccessDeniedException" });
        }
        if (!parseJson()) return;
        const call = parsed as { Path?: unknown; Method?: unknown; Body?: unknown };
        const m = typeof call.Path === "string" ? /^\/dags\/([^/]+)\/dagRuns$/.exec(call.Path) : null;
        if (m === null || call.Method !== "POST") {
          return json(
            res,
            400,
            { message: "unsupported Path/Method" },
            { "x-amzn-errortype": "ValidationException" },
          );
        }
        const clientError = (status: number, detail: unknown) =>
          json(
            res,
            400,
            { RestApiStatusCode: status, RestApiResponse: detail },
            { "x-amzn-errortype": "RestApiClientException" },
          );
        const wrong = dagRunBody(restApiVersion, call.Body);
        if (wrong !== undefined) return clientError(400, { title: "Bad Request", detail: wrong });
        const { dag_run_id, conf } = call.Body as { dag_run_id?: unknown; conf?: unknown };
        const made = createRun("restapi", m[1] as string, dag_run_id, conf);
        if (made.status !== 200) return clientError(made.status, { title: "Error", detail: made.detail });
        return json(res, 200, {
          RestApiStatusCode: 200,
          RestApiResponse: { dag_id: m[1], dag_run_id, conf, state: "queued" },
        });
      }
      default:
        return problem(res, 404, "Not Found", `no route ${method} ${path}`);
    }
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    host,
    requests,
    runs,
    fail(route, ...list) {
      faults.set(route, [...(faults.get(route) ?? []), ...list]);
    },
    expireTokens() {
      jwts = new Set();
      cliTokens = new Set();
    },
    count: (route) => requests.filter((r) => r.route === route).length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
