/**
 * OANDA reissues: after a partial fill OANDA may carry an order's remaining units on as a NEW order that replaces
 * it (Order Endpoints, POST /orders 201 `orderReissueTransaction`: "The Transaction that reissues the Order. Only
 * provided when the Order is configured to be reissued for its remaining units after a partial fill and the reissue
 * was successful"; Transaction Definitions: the reissued order's create transaction has `reason` REPLACEMENT and
 * `replacesOrderID`; Order Definitions: `replacesOrderID` on the new order, `replacedByOrderID` on the old, whose id
 * is another since an OrderID is "derived from the TransactionID of the Transaction that created the Order").
 *
 * Our order stays ONE order across such replacements: it keeps the id and client order id the engine knows, its
 * replacement's fills count toward it, and a cancel goes to the venue order that carries it now (`Replacements`,
 * shared with Alpaca's replaces: ../replacements.ts).
 */
export { Replacements as Reissues, stillWorking } from '../replacements';
