# As palavras dos apps web em português do Brasil. Toda mensagem daqui existe também em
# en-US.ftl e id-ID.ftl (um teste confere). Argumentos: { $name }.

skip-to-content = Pular para o conteúdo
language = Idioma
sign-out = Sair
back = Voltar
cancel = Cancelar
apply = Aplicar
error-generic = Algo deu errado: { $message }
error-network = Sem conexão com o servidor; tentando de novo…
live-connecting = Conectando…
live-online = Ao vivo
live-offline = Sem conexão, reconectando…

login-title = Entrar
login-lead = Entre para lançar pedidos, usar a tela da cozinha ou a retaguarda.
login-user = Usuário
login-password = Senha
login-totp = Código do app autenticador
login-submit = Entrar
login-wrong = Usuário ou senha incorretos.
login-totp-needed = Digite o código do app autenticador.
login-totp-setup = Sua conta precisa de autenticação em dois fatores: configure-a pela API primeiro.

home-title = Suas lojas
pos-title = Ponto de venda
kds-title = Tela da cozinha
office-title = Retaguarda

pos-tables = Mesas
pos-counter = Pedido no balcão
pos-search = Buscar produtos
pos-barcode = Leia ou digite um código de barras
pos-categories = Categorias
pos-all = Todos
pos-send = Enviar para a cozinha
pos-discount = Desconto
pos-split = Dividir conta
pos-pay = Pagar
pos-nothing-to-send = Adicione algo primeiro.
pos-sent = Enviado para a cozinha.
pos-no-products = Nenhum produto encontrado.
pos-barcode-unknown = Nenhum produto tem o código { $code }.
pos-sold-out = Esgotado
pos-remove = Remover
table-free = Livre
table-guests = { $count ->
    [one] 1 pessoa
   *[other] { $count } pessoas
}
order-title-table = Pedido nº { $number } · { $table }
order-title-new = Novo pedido · { $table }
order-title-counter = Pedido nº { $number } · Balcão
order-new-counter = Novo pedido no balcão
toast-ready = Pedido nº { $number } ({ $table }) está pronto
counter = Balcão

status-open = Aberto
status-sent = Na cozinha
status-ready = Pronto
status-served = Servido
status-paid = Pago
status-closed = Fechado
status-cancelled = Cancelado
line-status-pending = Não enviado
line-status-sent = Enviado
line-status-preparing = Em preparo
line-status-ready = Pronto
line-status-served = Servido
line-status-voided = Estornado

line-quantity = Quantidade
line-seat = Lugar
line-course = Etapa
line-notes = Observações
line-notes-example = ex.: sem gelo
line-add = Adicionar
line-choose = Escolha { $name }
line-choose-at-least = Escolha pelo menos { $min } em { $name }.

totals-subtotal = Subtotal
totals-discounts = Descontos
totals-service = Serviço
totals-tax = Impostos
totals-total = Total
totals-tip = Gorjeta

discount-percent = Percentual de desconto no pedido
discount-reason = Motivo
discount-done = Desconto aplicado.
split-parts = Dividir em quantas partes iguais?
split-done = Dividido em { $count } pedidos.

pay-title = Pagamento
pay-due = A pagar
pay-paid = Pago
pay-remaining = Falta pagar
pay-change = Troco
pay-method = Forma de pagamento
pay-cash = Dinheiro
pay-card = Cartão
pay-amount = Valor recebido
pay-take = Receber
pay-close = Fechar pedido
pay-taken = Pagamento recebido. Troco: { $amount }
pay-closed = Pedido fechado.
receipt-title = Recibo

kds-station = Estação
kds-recall = Chamar de volta
kds-bump = Pronto
kds-start = Iniciar
kds-empty = Nenhum pedido. Tudo em dia.
kds-keys = Teclas: 1–9 escolhem um pedido, Enter ou B marca pronto, S inicia, R chama de volta o último.
kds-rush = Urgente
kds-held = Aguardando
kds-seat = Lugar { $seat }
kds-course = Etapa { $course }
kds-bumped = Pedido nº { $number } pronto.
kds-recalled = Pedido nº { $number } chamado de volta.
kds-nothing-to-recall = Nada para chamar de volta.

report-x = Hoje até agora (Leitura X)
report-refresh = Atualizar
report-close-day = Fechar o dia (Redução Z)
report-close-day-confirm = Fechar o dia? Isto emite a Redução Z e não pode ser desfeito.
report-z-list = Reduções Z
report-closed-at = Fechada em
report-orders = Pedidos
report-total = Total
report-net = Líquido de devoluções
report-tax = Impostos
report-tips = Gorjetas
report-print = Imprimir
report-closed = Redução Z nº { $number } emitida.
