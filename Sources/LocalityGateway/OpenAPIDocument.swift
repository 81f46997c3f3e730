/// The OpenAPI 3 document of the gateway, served at `/openapi.yaml`. Same text as
/// docs/openapi.yaml (a test keeps the two equal; scripts/validate-openapi checks it).
enum OpenAPIDocument {
    static let yaml = """
openapi: 3.0.3
info:
  title: Locality gateway
  version: "1"
  description: |
    HTTP API of every Locality node (docs/gateway.md): virtual actor calls over
    HTTP/JSON, health, cluster views, metrics and the dashboard. Every error answer has
    the body `{"error":{"code":…,"message":…}}`; codes are stable.

    Authentication is off unless the node has a token source (docs/gateway.md,
    "Authentication"); then every operation but /healthz, /readyz, /openapi.yaml and the
    dashboard page needs `Authorization: Bearer <token>` (a static token or a JWT):
    actor calls a token that allows the actor's kind, the cluster views, /v1/stats and
    /metrics an admin token. Missing or invalid token: 401 unauthorized; valid token
    without the right: 403 forbidden.
security:
  - {}
  - bearerAuth: []
paths:
  /v1/actors/{type}/{id}/{method}:
    post:
      summary: Call a method of a virtual actor
      description: |
        The actor `type`/`id` is activated on its owner node if needed and the method runs
        there, one call at a time per actor. Arguments are a JSON object keyed by argument
        label, a JSON array in declaration order, or an empty body.
      operationId: callActor
      parameters:
        - {name: type, in: path, required: true, schema: {type: string}, description: "Registered actor kind, e.g. player"}
        - {name: id, in: path, required: true, schema: {type: string}, description: Actor key (percent-encoded)}
        - {name: method, in: path, required: true, schema: {type: string}, description: Method base name or stable name}
        - name: X-Locality-Timeout-Ms
          in: header
          required: false
          schema: {type: integer, minimum: 1}
          description: Call timeout in milliseconds (default 5000, capped by the node's maxCallTimeout)
        - name: Idempotency-Key
          in: header
          required: false
          schema: {type: string, minLength: 1, maxLength: 255, pattern: "^[!-~]+$"}
          description: |
            Makes retrying this call safe (a UUID is the usual choice). A call retried under
            the same key, through any node, within the actor's window (default 10 minutes
            and its last 128 keyed calls that changed state), runs at most once: the retry
            answers the first result without running again. The key
            is stored with the actor's state in the same commit as the call's changes, so it
            holds after the actor moved to another node, even after a crash. When the first
            run committed its changes but its result was not kept (the node stopped before
            recording it, or the result was over 1 KiB), the retry answers 409
            `already_applied`: count it as applied. A call that changed no state is not
            remembered (its retry runs again). The same key with another method or other
            arguments is refused with 400. Retry a 504 (`outcome_unknown`,
            `deadline_exceeded`) under the same key until it answers. A key is per actor:
            the same key on another actor is another call.
      requestBody:
        required: false
        content:
          application/json:
            schema:
              oneOf:
                - {type: object, additionalProperties: true}
                - {type: array, items: {}}
      responses:
        "200":
          description: The method's result as JSON (null for a method without result)
          content:
            application/json:
              schema: {}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
        "404": {$ref: "#/components/responses/Error"}
        "408": {$ref: "#/components/responses/Error"}
        "409":
          description: >-
            conflict (a concurrent activation wrote first; retry), or already_applied (a
            call retried under its Idempotency-Key ran once and its changes are committed;
            its result was not kept)
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "413": {$ref: "#/components/responses/Error"}
        "422":
          description: The actor method threw (code method_error)
          content:
            application/json:
              schema: {$ref: "#/components/schemas/MethodError"}
        "429": {$ref: "#/components/responses/Retry"}
        "500": {$ref: "#/components/responses/Error"}
        "502": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Retry"}
        "504": {$ref: "#/components/responses/MayHaveRun"}
  /v1/cluster/members:
    get:
      summary: Members as this node's membership sees them
      operationId: members
      responses:
        "200":
          description: Members sorted by id
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Members"}
        "503": {$ref: "#/components/responses/Retry"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
  /v1/cluster/ring:
    get:
      summary: The consistent-hash ring this node routes with
      operationId: ring
      responses:
        "200":
          description: Ring members with virtual nodes and key share
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Ring"}
        "503": {$ref: "#/components/responses/Retry"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
  /v1/cluster/lookup:
    get:
      summary: Owner of a key on this node's ring
      operationId: lookup
      parameters:
        - {name: key, in: query, required: true, schema: {type: string, minLength: 1}, description: "Routing key; for an actor: type/id"}
      responses:
        "200":
          description: The owner
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Lookup"}
        "400": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Retry"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
  /v1/cluster/activations:
    get:
      summary: Live actor activations on this node
      operationId: activations
      parameters:
        - {name: kind, in: query, required: false, schema: {type: string}, description: Only this actor kind}
        - {name: limit, in: query, required: false, schema: {type: integer, minimum: 0, default: 1000}, description: "Most activations listed; values above 10,000 list 10,000"}
      responses:
        "200":
          description: Activations sorted by kind and key
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Activations"}
        "400": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Retry"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
  /v1/stats:
    get:
      summary: Per-second actor-call traffic of this node (dashboard time series)
      operationId: stats
      responses:
        "200":
          description: Gauges and the last seconds, oldest first
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Stats"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
  /metrics:
    get:
      summary: Prometheus metrics of every layer (locality_*)
      operationId: metrics
      responses:
        "200":
          description: Prometheus text format 0.0.4
          content:
            text/plain:
              schema: {type: string}
        "503": {$ref: "#/components/responses/Retry"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
  /healthz:
    get:
      summary: The process is alive
      operationId: healthz
      security: []
      responses:
        "200":
          description: Alive
          content:
            application/json:
              schema: {type: object, properties: {status: {type: string, enum: [ok]}}}
  /readyz:
    get:
      summary: The node has joined the cluster and serves calls
      operationId: readyz
      security: []
      responses:
        "200":
          description: Ready
          content:
            application/json:
              schema: {type: object, properties: {ready: {type: boolean}}}
        "503": {$ref: "#/components/responses/Retry"}
  /openapi.yaml:
    get:
      summary: This document
      operationId: openapi
      security: []
      responses:
        "200":
          description: OpenAPI 3 document
          content:
            application/yaml:
              schema: {type: string}
  /:
    get:
      summary: The dashboard (one self-contained HTML page polling the JSON endpoints)
      operationId: dashboard
      security: []
      responses:
        "200":
          description: HTML page
          content:
            text/html:
              schema: {type: string}
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
      description: |
        A static token (listed by its SHA-256 in the node's http-tokens-file) or a JWT
        (HS256, ES256 or RS256; `exp` required; claims `locality_kinds`: kinds it may call,
        "*" for all; `locality_admin`: true for the admin paths). Only enforced when the
        node has a token source.
  headers:
    Retry-After:
      description: Seconds to wait before retrying
      schema: {type: integer, minimum: 1}
    WWW-Authenticate:
      description: 'Bearer realm="locality", with error="invalid_token" when a token was sent'
      schema: {type: string}
  responses:
    Unauthorized:
      description: Authentication is on and the bearer token is missing, malformed, unknown, forged or expired (code unauthorized)
      headers:
        WWW-Authenticate: {$ref: "#/components/headers/WWW-Authenticate"}
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Forbidden:
      description: A valid token that may not call this actor kind, or that is not an admin token on an admin path (code forbidden)
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Error:
      description: An error with a stable code
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    MayHaveRun:
      description: >-
        The call may or may not have run (deadline_exceeded: its deadline passed;
        outcome_unknown: the connection to the node running it was lost with the call in
        flight). No Retry-After: a retry may apply the call twice, unless it carries the
        same Idempotency-Key.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Retry:
      description: Not applied (overloaded, not ready, owner unreachable, storage unavailable); retry after Retry-After seconds
      headers:
        Retry-After: {$ref: "#/components/headers/Retry-After"}
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [code, message]
          properties:
            code:
              type: string
              enum: [overloaded, not_owner, deadline_exceeded, actor_not_found, bad_request, conflict,
                     unauthenticated, payload_too_large, unavailable, cancelled, internal, outcome_unknown,
                     storage_unavailable, already_applied, method_error, not_found, unauthorized, forbidden]
            message: {type: string}
    MethodError:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [code, message, type]
          properties:
            code: {type: string, enum: [method_error]}
            message: {type: string}
            type: {type: string, description: Name of the error type the method threw}
            detail: {description: "The error as JSON when its type may travel, else null", nullable: true}
    Node:
      type: object
      required: [name, uid]
      properties:
        name: {type: string}
        uid: {type: string, description: 64-bit incarnation id as decimal text}
    Members:
      type: object
      required: [members]
      properties:
        node: {$ref: "#/components/schemas/Node"}
        members:
          type: array
          items:
            type: object
            required: [name, uid, address, state, incarnation, metadata]
            properties:
              name: {type: string}
              uid: {type: string}
              address: {type: string, description: gossip address host:port}
              state: {type: string, enum: [alive, suspect, dead, left]}
              incarnation: {type: integer}
              metadata: {type: object, additionalProperties: {type: string}}
    Ring:
      type: object
      required: [checksum, vnodes, members]
      properties:
        node: {$ref: "#/components/schemas/Node"}
        checksum: {type: string, description: ring checksum in hex; equal on two nodes means same owners}
        vnodes: {type: integer}
        members:
          type: array
          items:
            type: object
            required: [name, uid, vnodes, share]
            properties:
              name: {type: string}
              uid: {type: string}
              address: {type: string, description: transport address host:port}
              vnodes: {type: integer}
              share: {type: number, minimum: 0, maximum: 1}
    Lookup:
      type: object
      required: [key, hash, owner]
      properties:
        key: {type: string}
        hash: {type: string}
        owner: {$ref: "#/components/schemas/Node"}
        address: {type: string}
    Activations:
      type: object
      required: [count, truncated, activations]
      properties:
        node: {$ref: "#/components/schemas/Node"}
        kind: {type: string}
        count: {type: integer}
        truncated: {type: boolean}
        activations:
          type: array
          items:
            type: object
            required: [kind, key]
            properties:
              kind: {type: string}
              key: {type: string}
    Stats:
      type: object
      required: [inFlight, queued, connections, samples]
      properties:
        node: {$ref: "#/components/schemas/Node"}
        inFlight: {type: integer}
        queued: {type: integer}
        connections: {type: integer}
        samples:
          type: array
          items:
            type: object
            required: [second, requests, errors, rejected, p50Ms, p99Ms]
            properties:
              second: {type: integer, description: Unix second}
              requests: {type: integer}
              errors: {type: integer}
              rejected: {type: integer}
              p50Ms: {type: number}
              p99Ms: {type: number}
"""
}
