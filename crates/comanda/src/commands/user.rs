//! `comanda user ...`: people management from the server's shell. Whoever can run this
//! can read the database anyway, so it needs no sign-in; every change still lands in the
//! security log, marked as made from the command line.

use crate::cli::{UserCommand, UserCreateArgs};
use crate::database;
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow, bail};
use comanda_domain::identity::SecurityEventKind;
use comanda_domain::{DisplayName, Login, NewUser, Role, Secret, User, UserId, password_policy};
use comanda_server::audit;
use comanda_server::auth::extract::RequestMeta;
use comanda_server::password;
use comanda_store::{Limit, Storage, UserFilter};
use std::process::ExitCode;

pub async fn run(settings: &Settings, command: &UserCommand) -> Result<ExitCode> {
    let storage = database::open_current(settings).await?;
    let outcome = dispatch(&*storage, command).await;
    storage.close().await;
    outcome.map(|()| ExitCode::SUCCESS)
}

async fn dispatch(storage: &dyn Storage, command: &UserCommand) -> Result<()> {
    match command {
        UserCommand::Create(args) => create(storage, args).await,
        UserCommand::ResetPassword(a) => {
            reset_password(storage, &find(storage, &a.login).await?).await
        }
        UserCommand::ResetTotp(a) => {
            let user = find(storage, &a.login).await?;
            storage
                .disable_totp(user.id)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            end_sessions(storage, &user, "second factor reset").await?;
            log(storage, SecurityEventKind::TotpReset, &user).await;
            println!(
                "two-factor authentication removed for {}; they set it up again at their next sign-in",
                user.login
            );
            Ok(())
        }
        UserCommand::Disable(a) => {
            set_disabled(storage, &find(storage, &a.login).await?, true).await
        }
        UserCommand::Enable(a) => {
            set_disabled(storage, &find(storage, &a.login).await?, false).await
        }
        UserCommand::List => list(storage).await,
    }
}

async fn find(storage: &dyn Storage, login: &str) -> Result<User> {
    let parsed = Login::parse("login", login).map_err(|e| anyhow!("invalid {e}"))?;
    storage
        .find_user_by_login(&parsed)
        .await
        .map_err(|e| anyhow!("{e}"))?
        .with_context(|| format!("no person with the login {login:?}"))
}

/// The password to set: COMANDA_USER_PASSWORD if given (checked against the policy),
/// else a generated one that is printed.
async fn chosen_password(login: &Login) -> Result<(comanda_domain::PasswordHash, Option<String>)> {
    let (password, generated) = match std::env::var("COMANDA_USER_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        Some(p) => {
            password_policy::check("COMANDA_USER_PASSWORD", &p, login.as_str())
                .map_err(|e| anyhow!("{e}"))?;
            (Secret::new(p), false)
        }
        None => (password::generate(16).map_err(|e| anyhow!("{e}"))?, true),
    };
    let hash = password::hash(&password)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok((hash, generated.then(|| password.expose().to_owned())))
}

async fn create(storage: &dyn Storage, args: &UserCreateArgs) -> Result<()> {
    let login = Login::parse("login", &args.login).map_err(|e| anyhow!("invalid {e}"))?;
    let role: Role = args.role.parse().map_err(|()| {
        anyhow!(
            "unknown role {:?}; use owner, admin, manager, cashier, waiter or kitchen",
            args.role
        )
    })?;
    let display_name = DisplayName::parse("name", args.name.as_deref().unwrap_or(&args.login))
        .map_err(|e| anyhow!("invalid {e}"))?;
    let stores = database::store_ids(storage, &args.stores).await?;
    if !args.all_stores && stores.is_empty() {
        bail!("give at least one --store CODE, or --all-stores");
    }
    let (password_hash, shown) = chosen_password(&login).await?;
    let user = storage
        .create_user(&NewUser {
            id: UserId::new(),
            login,
            display_name,
            password_hash,
            role,
            all_stores: args.all_stores,
            store_ids: stores,
            must_change_password: true,
            company_id: None,
        })
        .await
        .map_err(|e| anyhow!("{e}"))?;
    log(storage, SecurityEventKind::UserCreated, &user).await;
    println!("created {} ({})", user.login, user.role);
    print_password(shown.as_deref());
    Ok(())
}

async fn reset_password(storage: &dyn Storage, user: &User) -> Result<()> {
    let (hash, shown) = chosen_password(&user.login).await?;
    storage
        .set_password(user.id, &hash, true)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    end_sessions(storage, user, "password reset").await?;
    log(storage, SecurityEventKind::PasswordReset, user).await;
    println!("password reset for {}; every session ended", user.login);
    print_password(shown.as_deref());
    Ok(())
}

async fn set_disabled(storage: &dyn Storage, user: &User, disabled: bool) -> Result<()> {
    storage
        .set_disabled(user.id, disabled)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    if disabled {
        end_sessions(storage, user, "user disabled").await?;
    }
    let kind = if disabled {
        SecurityEventKind::UserDisabled
    } else {
        SecurityEventKind::UserEnabled
    };
    log(storage, kind, user).await;
    println!(
        "{} is now {}",
        user.login,
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}

async fn list(storage: &dyn Storage) -> Result<()> {
    let mut rows = vec![["LOGIN", "ROLE", "STATE", "2FA", "PIN", "STORES"].map(str::to_owned)];
    let mut after = None;
    loop {
        let page = storage
            .list_users(&UserFilter::default(), after, Limit::new(Some(Limit::MAX)))
            .await
            .map_err(|e| anyhow!("{e}"))?;
        for u in &page.items {
            let stores = if u.all_stores {
                "all".to_owned()
            } else {
                u.store_ids.len().to_string()
            };
            let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
            let state = if u.disabled { "disabled" } else { "active" };
            rows.push([
                u.login.as_str().to_owned(),
                u.role.as_str().to_owned(),
                state.to_owned(),
                yes(u.totp_enabled()),
                yes(u.pin_hash.is_some()),
                stores,
            ]);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    print!("{}", aligned(&rows));
    Ok(())
}

/// Rows as text, each column as wide as its widest cell (in characters, so a login
/// with accents lines up too), two spaces between columns.
fn aligned<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn print_password(shown: Option<&str>) {
    if let Some(p) = shown {
        println!("temporary password: {p}");
        println!("(shown once; it must be changed at first sign-in)");
    }
}

async fn end_sessions(storage: &dyn Storage, user: &User, reason: &str) -> Result<()> {
    storage
        .revoke_user_sessions(user.id, reason, None)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

async fn log(storage: &dyn Storage, kind: SecurityEventKind, user: &User) {
    audit::entry(kind, &RequestMeta::default())
        .about(user.id)
        .detail("via", "command line")
        .record_in(storage)
        .await;
}
