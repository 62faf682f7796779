// The check is about what the scripts ask of the API and read from it, not about the
// page: elements looked up by id or selector are taken as the scripts use them.
interface Document {
  getElementById(elementId: string): any;
  querySelector(selectors: string): any;
  querySelectorAll(selectors: string): NodeListOf<any>;
}
interface Element {
  querySelector(selectors: string): any;
  querySelectorAll(selectors: string): NodeListOf<any>;
  closest(selectors: string): any;
}
