# The web apps' words in US English. Every message here must exist in pt-BR.ftl and
# id-ID.ftl too (a test checks). Arguments: { $name }.

skip-to-content = Skip to content
language = Language
sign-out = Sign out
back = Back
cancel = Cancel
apply = Apply
error-generic = Something went wrong: { $message }
error-network = No connection to the server; trying again…
live-connecting = Connecting…
live-online = Live
live-offline = Offline, reconnecting…

login-title = Sign in
login-lead = Sign in to take orders, run the kitchen screen or the back office.
login-user = User
login-password = Password
login-totp = Code from your authenticator app
login-submit = Sign in
login-wrong = Wrong user or password.
login-totp-needed = Enter the code from your authenticator app.
login-totp-setup = Your account needs two-factor authentication: set it up through the API first.

home-title = Your stores
pos-title = Point of sale
kds-title = Kitchen screen
office-title = Back office

pos-tables = Tables
pos-counter = Counter order
pos-search = Search products
pos-barcode = Scan or type a barcode
pos-categories = Categories
pos-all = All
pos-send = Send to kitchen
pos-discount = Discount
pos-split = Split bill
pos-pay = Pay
pos-nothing-to-send = Add something first.
pos-sent = Sent to the kitchen.
pos-no-products = No products found.
pos-barcode-unknown = No product has barcode { $code }.
pos-sold-out = Sold out
pos-remove = Remove
table-free = Free
table-guests = { $count ->
    [one] 1 guest
   *[other] { $count } guests
}
order-title-table = Order #{ $number } · { $table }
order-title-new = New order · { $table }
order-title-counter = Order #{ $number } · Counter
order-new-counter = New counter order
toast-ready = Order #{ $number } ({ $table }) is ready
counter = Counter

status-open = Open
status-sent = In the kitchen
status-ready = Ready
status-served = Served
status-paid = Paid
status-closed = Closed
status-cancelled = Cancelled
line-status-pending = Not sent
line-status-sent = Sent
line-status-preparing = Preparing
line-status-ready = Ready
line-status-served = Served
line-status-voided = Voided

line-quantity = Quantity
line-seat = Seat
line-course = Course
line-notes = Notes
line-notes-example = e.g. no ice
line-add = Add
line-choose = Choose { $name }
line-choose-at-least = Choose at least { $min } in { $name }.

totals-subtotal = Subtotal
totals-discounts = Discounts
totals-service = Service
totals-tax = Tax
totals-total = Total
totals-tip = Tip

discount-percent = Percent off the order
discount-reason = Reason
discount-done = Discount applied.
split-parts = Split into how many equal parts?
split-done = Split into { $count } orders.

pay-title = Payment
pay-due = Due
pay-paid = Paid
pay-remaining = Left to pay
pay-change = Change
pay-method = Payment method
pay-cash = Cash
pay-card = Card
pay-amount = Amount received
pay-take = Take payment
pay-close = Close order
pay-taken = Payment taken. Change: { $amount }
pay-closed = Order closed.
receipt-title = Receipt

kds-station = Station
kds-recall = Recall last
kds-bump = Bump
kds-start = Start
kds-empty = No tickets. All caught up.
kds-keys = Keys: 1–9 select a ticket, Enter or B bumps it, S starts it, R recalls the last bumped.
kds-rush = Rush
kds-held = Held
kds-seat = Seat { $seat }
kds-course = Course { $course }
kds-bumped = Order #{ $number } bumped.
kds-recalled = Order #{ $number } recalled.
kds-nothing-to-recall = Nothing to recall.

report-x = Today so far (X report)
report-refresh = Refresh
report-close-day = Close the day (Z report)
report-close-day-confirm = Close the business day? This issues the Z report and cannot be undone.
report-z-list = Z reports
report-closed-at = Closed at
report-orders = Orders
report-total = Total
report-net = Net of refunds
report-tax = Tax
report-tips = Tips
report-print = Print
report-closed = Z report #{ $number } issued.
