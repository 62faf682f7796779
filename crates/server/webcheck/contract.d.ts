// What the web apps' scripts may ask of the API and what they get back, read from the
// API's OpenAPI document: `api.d.ts` beside this file is generated from
// docs/openapi.json by openapi-typescript (scripts/check-web-types.sh). A call to a
// path or method the document does not have, a body it does not take, or a read of a
// field an answer does not have fails the check.

type ApiPaths = import('./api').paths;
type Schemas = import('./api').components['schemas'];

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The web session's own routes (sign-in, terminals), outside the API document. */
type AppPath = `/app/${string}`;

/** A path as the scripts write it, under the store (`/orders/{order_id}`) or whole. */
type Template<P extends string> = P extends `${infer Path}?${string}`
  ? Template<Path>
  : P extends `/api/${string}`
    ? P
    : `/api/v1/stores/{store_id}${P}`;

type PathItem<P extends string> = Template<P> extends keyof ApiPaths ? ApiPaths[Template<P>] : never;

/** The methods the document has for a path. */
type MethodOf<P extends string> = P extends AppPath
  ? HttpMethod
  : {
      [M in HttpMethod]: PathItem<P> extends { [K in Lowercase<M>]: infer O } ? ([O] extends [never] | [undefined] ? never : M) : never;
    }[HttpMethod];

type Operation<P extends string, M extends HttpMethod> = PathItem<P> extends { [K in Lowercase<M>]: infer O } ? O : never;

/** A path the document has, or one of the web session's own. */
type KnownPath<P extends string> = P extends AppPath ? P : Template<P> extends keyof ApiPaths ? P : never;

type Json<C> = C extends { content: { 'application/json': infer T } } ? T : never;

/** The body an operation takes. */
type BodyOf<P extends string, M extends HttpMethod> = P extends AppPath
  ? any
  : Operation<P, M> extends { requestBody?: infer B }
    ? [B] extends [never] | [undefined]
      ? undefined
      : Json<NonNullable<B>>
    : undefined;

/** What a successful call answers. */
type AnswerOf<P extends string, M extends HttpMethod> = P extends AppPath
  ? any
  : Operation<P, M> extends { responses: infer R }
    ? R extends { 200: infer A }
      ? Json<A>
      : R extends { 201: infer A }
        ? Json<A>
        : R extends { 202: infer A }
          ? Json<A>
          : null
    : never;

// The shapes the scripts keep, by the names the document gives them.
type OrderView = Schemas['OrderView'];
type OrderLine = Schemas['OrderLine'];
type Menu = Schemas['MenuAnswer'];
type MenuProduct = Schemas['MenuProduct'];
type TableView = Schemas['TableView'];
type ServiceArea = Schemas['ServiceArea'];
type ShiftView = Schemas['ShiftView'];
type Ticket = Schemas['Ticket'];
