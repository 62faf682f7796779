# Kata-kata aplikasi web dalam bahasa Indonesia. Setiap pesan di sini juga ada di
# en-US.ftl dan pt-BR.ftl (sebuah tes memeriksanya). Argumen: { $name }.

skip-to-content = Lompat ke konten
language = Bahasa
sign-out = Keluar
back = Kembali
cancel = Batal
apply = Terapkan
error-generic = Terjadi kesalahan: { $message }
error-network = Tidak ada koneksi ke server; mencoba lagi…
live-connecting = Menghubungkan…
live-online = Langsung
live-offline = Terputus, menghubungkan ulang…

login-title = Masuk
login-lead = Masuk untuk mencatat pesanan, menjalankan layar dapur, atau kantor belakang.
login-user = Pengguna
login-password = Kata sandi
login-totp = Kode dari aplikasi autentikator
login-submit = Masuk
login-wrong = Pengguna atau kata sandi salah.
login-totp-needed = Masukkan kode dari aplikasi autentikator.
login-totp-setup = Akun Anda memerlukan autentikasi dua faktor: siapkan lewat API terlebih dahulu.

home-title = Toko Anda
pos-title = Kasir
kds-title = Layar dapur
office-title = Kantor belakang

pos-tables = Meja
pos-counter = Pesanan konter
pos-search = Cari produk
pos-barcode = Pindai atau ketik kode batang
pos-categories = Kategori
pos-all = Semua
pos-send = Kirim ke dapur
pos-discount = Diskon
pos-split = Pisah tagihan
pos-pay = Bayar
pos-nothing-to-send = Tambahkan sesuatu dulu.
pos-sent = Terkirim ke dapur.
pos-no-products = Produk tidak ditemukan.
pos-barcode-unknown = Tidak ada produk dengan kode batang { $code }.
pos-sold-out = Habis
pos-remove = Hapus
table-free = Kosong
table-guests = { $count } tamu
order-title-table = Pesanan #{ $number } · { $table }
order-title-new = Pesanan baru · { $table }
order-title-counter = Pesanan #{ $number } · Konter
order-new-counter = Pesanan konter baru
toast-ready = Pesanan #{ $number } ({ $table }) sudah siap
counter = Konter

status-open = Terbuka
status-sent = Di dapur
status-ready = Siap
status-served = Tersaji
status-paid = Lunas
status-closed = Ditutup
status-cancelled = Dibatalkan
line-status-pending = Belum dikirim
line-status-sent = Terkirim
line-status-preparing = Disiapkan
line-status-ready = Siap
line-status-served = Tersaji
line-status-voided = Dibatalkan

line-quantity = Jumlah
line-seat = Kursi
line-course = Babak
line-notes = Catatan
line-notes-example = mis. tanpa es
line-add = Tambah
line-choose = Pilih { $name }
line-choose-at-least = Pilih paling sedikit { $min } di { $name }.

totals-subtotal = Subtotal
totals-discounts = Diskon
totals-service = Layanan
totals-tax = Pajak
totals-total = Total
totals-tip = Tip

discount-percent = Persen diskon pesanan
discount-reason = Alasan
discount-done = Diskon diterapkan.
split-parts = Dibagi menjadi berapa bagian sama?
split-done = Dipisah menjadi { $count } pesanan.

pay-title = Pembayaran
pay-due = Tagihan
pay-paid = Dibayar
pay-remaining = Sisa
pay-change = Kembalian
pay-method = Metode pembayaran
pay-cash = Tunai
pay-card = Kartu
pay-amount = Uang diterima
pay-take = Terima pembayaran
pay-close = Tutup pesanan
pay-taken = Pembayaran diterima. Kembalian: { $amount }
pay-closed = Pesanan ditutup.
receipt-title = Struk

kds-station = Stasiun
kds-recall = Panggil kembali
kds-bump = Selesai
kds-start = Mulai
kds-empty = Tidak ada pesanan. Semua beres.
kds-keys = Tombol: 1–9 memilih pesanan, Enter atau B menyelesaikan, S memulai, R memanggil kembali yang terakhir.
kds-rush = Segera
kds-held = Ditahan
kds-seat = Kursi { $seat }
kds-course = Babak { $course }
kds-bumped = Pesanan #{ $number } selesai.
kds-recalled = Pesanan #{ $number } dipanggil kembali.
kds-nothing-to-recall = Tidak ada yang bisa dipanggil kembali.

report-x = Hari ini sejauh ini (Laporan X)
report-refresh = Segarkan
report-close-day = Tutup hari (Laporan Z)
report-close-day-confirm = Tutup hari usaha? Ini menerbitkan Laporan Z dan tidak dapat dibatalkan.
report-z-list = Laporan Z
report-closed-at = Ditutup pada
report-orders = Pesanan
report-total = Total
report-net = Bersih setelah pengembalian
report-tax = Pajak
report-tips = Tip
report-print = Cetak
report-closed = Laporan Z #{ $number } diterbitkan.
