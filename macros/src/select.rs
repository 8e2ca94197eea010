//! `select!`'s expansion: parse the branches, then generate code that pins every branch's
//! future on the stack, polls them from one `poll_fn` (in order or from a rotating start),
//! and runs the winning branch's handler after every future has been dropped.
//!
//! The expansion has this shape (N branches):
//!
//! ```text
//! {
//!     enum Out<T0, .., TN-1> { B0(T0), .., BN-1(TN-1), Disabled }
//!     let out = {
//!         let mut disabled = [!precondition0, ..];          // preconditions first
//!         let mut f0 = pin!(IntoFuture::into_future(fut0)); // then every future, in order
//!         ..
//!         poll_fn(|cx| { /* poll enabled branches; a Ready value whose pattern does not
//!                          match disables its branch; all disabled -> Out::Disabled */ })
//!             .await
//!     };                                                    // every future dropped here
//!     match out { Out::B0(pattern0) => handler0, .., Out::Disabled => else_or_panic }
//! }
//! ```
//!
//! The pattern is first checked against a reference to the output, inside the `poll_fn`
//! (rewritten by [`clean_pattern`] so it type-checks against `&Output` in every edition),
//! and applied by value in the final `match`. No `unsafe`, no allocation: `pin!` pins each
//! future in place, and the generated future is `Send` when every branch future is.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{token, Expr, Ident, Pat, Token};

/// One `pattern = future (, if precondition)? => handler` branch.
struct Branch {
    pat: Pat,
    fut: Expr,
    cond: Option<Expr>,
    handler: Expr,
}

/// The whole macro input: `(crate path) biased;? branches.. (else => expr)?`.
struct Select {
    krate: TokenStream2,
    biased: bool,
    branches: Vec<Branch>,
    otherwise: Option<Expr>,
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::parenthesized!(content in input);
        let krate: TokenStream2 = content.parse()?;

        let biased = if input.peek(Ident) && input.peek2(Token![;]) {
            let ident: Ident = input.fork().parse()?;
            if ident != "biased" {
                return Err(syn::Error::new(
                    ident.span(),
                    format!("unknown select! mode `{ident}`: the only mode is `biased;`"),
                ));
            }
            input.parse::<Ident>()?;
            input.parse::<Token![;]>()?;
            true
        } else {
            false
        };

        let mut branches = Vec::new();
        let mut otherwise = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let else_token: Token![else] = input.parse()?;
                input.parse::<Token![=>]>()?;
                otherwise = Some(Expr::parse_with_earlier_boundary_rule(input)?);
                input.parse::<Option<Token![,]>>()?;
                if !input.is_empty() {
                    return Err(syn::Error::new(
                        else_token.span,
                        "the `else` branch of select! must come last",
                    ));
                }
                break;
            }
            branches.push(input.parse()?);
        }
        Ok(Select {
            krate,
            biased,
            branches,
            otherwise,
        })
    }
}

impl Parse for Branch {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let pat = Pat::parse_multi_with_leading_vert(input)?;
        if !input.peek(Token![=]) || input.peek(Token![=>]) {
            return Err(input.error(
                "expected `=` after the pattern: a select! branch is `pattern = future => handler`",
            ));
        }
        input.parse::<Token![=]>()?;
        let fut: Expr = input.parse()?;
        let cond = if input.peek(Token![,]) && input.peek2(Token![if]) {
            input.parse::<Token![,]>()?;
            input.parse::<Token![if]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        if !input.peek(Token![=>]) {
            return Err(input.error(
                "expected `=>` after the future (or after `, if precondition`): a select! branch is `pattern = future => handler`",
            ));
        }
        input.parse::<Token![=>]>()?;
        // The handler ends like a match arm's body: a block-like handler needs no comma.
        let handler = Expr::parse_with_earlier_boundary_rule(input)?;
        if input.is_empty() {
            // last branch
        } else if block_like(&handler) {
            input.parse::<Option<Token![,]>>()?;
        } else if input.peek(token::Comma) {
            input.parse::<Token![,]>()?;
        } else {
            return Err(input.error("expected `,` after this select! branch's handler"));
        }
        Ok(Branch {
            pat,
            fut,
            cond,
            handler,
        })
    }
}

/// True for handlers that may end a branch without a comma, as in a `match` arm.
fn block_like(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Block(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::While(_)
            | Expr::Loop(_)
            | Expr::ForLoop(_)
            | Expr::TryBlock(_)
            | Expr::Unsafe(_)
            | Expr::Const(_)
    )
}

/// Rewrites a branch's pattern into one that tests the same shape against a shared
/// reference to the value, under match ergonomics, in every edition: binding modifiers
/// (`ref`, `ref mut`, `mut`) are removed, and reference patterns `&p` / `&mut p` become `p`
/// (a non-reference pattern dereferences the references it meets, so `p` matches exactly
/// when `&p` did). Only whether it matches counts; its bindings are unused.
fn clean_pattern(pat: &mut Pat) {
    if let Pat::Reference(reference) = pat {
        let mut inner = (*reference.pat).clone();
        clean_pattern(&mut inner);
        *pat = inner;
        return;
    }
    match pat {
        Pat::Ident(ident) => {
            ident.by_ref = None;
            ident.mutability = None;
            if let Some((_, sub)) = &mut ident.subpat {
                clean_pattern(sub);
            }
        }
        Pat::Or(or) => or.cases.iter_mut().for_each(clean_pattern),
        Pat::Paren(paren) => clean_pattern(&mut paren.pat),
        Pat::Slice(slice) => slice.elems.iter_mut().for_each(clean_pattern),
        Pat::Struct(strukt) => strukt
            .fields
            .iter_mut()
            .for_each(|field| clean_pattern(&mut field.pat)),
        Pat::Tuple(tuple) => tuple.elems.iter_mut().for_each(clean_pattern),
        Pat::TupleStruct(tuple) => tuple.elems.iter_mut().for_each(clean_pattern),
        Pat::Type(typed) => clean_pattern(&mut typed.pat),
        // Literals, ranges, paths, wildcards, `..`, macros: nothing binds.
        _ => {}
    }
}

/// Expands `select!`'s input (see the module docs for the shape of the output).
pub(crate) fn expand(input: TokenStream2) -> syn::Result<TokenStream2> {
    let Select {
        krate,
        biased,
        branches,
        otherwise,
    } = syn::parse2(input)?;

    let n = branches.len();
    if n == 0 {
        return match otherwise {
            Some(expr) => Ok(quote!({ #expr })),
            None => Err(syn::Error::new(
                Span::call_site(),
                "select! needs at least one `pattern = future => handler` branch",
            )),
        };
    }

    // Names the user's code cannot see (local variables resolve at the macro's site).
    let site = Span::mixed_site();
    let out_ty = Ident::new("__CorioSelectOut", site);
    let out = Ident::new("__corio_select_out", site);
    let disabled = Ident::new("__corio_select_disabled", site);
    let cx = Ident::new("__corio_select_cx", site);
    let pending = Ident::new("__corio_select_pending", site);
    let start = Ident::new("__corio_select_start", site);
    let step = Ident::new("__corio_select_step", site);
    let branch = Ident::new("__corio_select_branch", site);
    let value = Ident::new("__corio_select_value", site);
    let matched = Ident::new("__corio_select_matched", site);
    let cond_value = Ident::new("__corio_select_enabled", site);

    let generics: Vec<Ident> = (0..n).map(|i| format_ident!("T{}", i)).collect();
    let variants: Vec<Ident> = (0..n).map(|i| format_ident!("B{}", i)).collect();
    let futs: Vec<Ident> = (0..n)
        .map(|i| Ident::new(&format!("__corio_select_fut{i}"), site))
        .collect();

    let disabled_init = branches.iter().map(|b| match &b.cond {
        Some(cond) => quote! {
            {
                let #cond_value: bool = #cond;
                !#cond_value
            }
        },
        None => quote!(false),
    });

    let pin_futs = branches.iter().zip(&futs).map(|(b, f)| {
        let fut = &b.fut;
        quote! {
            let mut #f = ::core::pin::pin!(::core::future::IntoFuture::into_future(#fut));
        }
    });

    let poll_arms = branches.iter().enumerate().map(|(i, b)| {
        let f = &futs[i];
        let variant = &variants[i];
        let mut clean = b.pat.clone();
        clean_pattern(&mut clean);
        quote! {
            #i => {
                if #disabled[#i] {
                    continue;
                }
                match ::core::future::Future::poll(#f.as_mut(), #cx) {
                    ::core::task::Poll::Ready(#value) => {
                        // Completed: never polled again, whether or not it matches.
                        #disabled[#i] = true;
                        #[allow(
                            unused_variables,
                            unreachable_patterns,
                            clippy::match_like_matches_macro,
                            clippy::redundant_pattern_matching
                        )]
                        let #matched = match &#value {
                            #clean => true,
                            _ => false,
                        };
                        if #matched {
                            return ::core::task::Poll::Ready(#out_ty::#variant(#value));
                        }
                    }
                    ::core::task::Poll::Pending => #pending = true,
                }
            }
        }
    });

    let start_expr = if biased {
        quote!(0usize)
    } else {
        let n32 = n as u32;
        quote!(#krate::__select::start(#n32) as usize)
    };

    let handler_arms = branches.iter().enumerate().map(|(i, b)| {
        let variant = &variants[i];
        let pat = &b.pat;
        let handler = &b.handler;
        quote!(#out_ty::#variant(#pat) => #handler,)
    });

    let otherwise = match otherwise {
        Some(expr) => quote!(#expr),
        None => quote!(::core::panic!(
            "all branches of select! are disabled and there is no `else` branch"
        )),
    };

    Ok(quote! {{
        enum #out_ty<#(#generics),*> {
            #( #variants(#generics), )*
            Disabled,
        }
        let #out = {
            let mut #disabled: [bool; #n] = [#(#disabled_init),*];
            #(#pin_futs)*
            ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
                let mut #pending = false;
                let #start: usize = #start_expr;
                for #step in 0..#n {
                    let mut #branch = #start + #step;
                    if #branch >= #n {
                        #branch -= #n;
                    }
                    match #branch {
                        #(#poll_arms)*
                        _ => ::core::unreachable!("select! branch index out of range"),
                    }
                }
                if #pending {
                    ::core::task::Poll::Pending
                } else {
                    ::core::task::Poll::Ready(#out_ty::Disabled)
                }
            })
            .await
        };
        match #out {
            #(#handler_arms)*
            #out_ty::Disabled => #otherwise,
            #[allow(unreachable_patterns)]
            _ => ::core::unreachable!("select!: the pattern matched by reference but not by value"),
        }
    }})
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn cleaned(src: &str) -> String {
        let mut pat = syn::parse::Parser::parse_str(Pat::parse_multi_with_leading_vert, src)
            .expect("a pattern");
        clean_pattern(&mut pat);
        pat.to_token_stream().to_string()
    }

    #[test]
    fn clean_pattern_drops_binding_modifiers_and_reference_patterns() {
        assert_eq!(cleaned("mut x"), "x");
        assert_eq!(cleaned("Some(ref x)"), "Some (x)");
        assert_eq!(cleaned("(ref mut a, &b, &mut c)"), "(a , b , c)");
        assert_eq!(cleaned("&mut (ref mut d)"), "(d)");
        assert_eq!(cleaned("Some(&0) | None"), "Some (0) | None");
        assert_eq!(
            cleaned("Reply { code: mut c @ 200..=299, ref body }"),
            "Reply { code : c @ 200 ..= 299 , body }"
        );
        assert_eq!(cleaned("[first, ref rest @ ..]"), "[first , rest @ ..]");
    }

    fn error(input: TokenStream2) -> String {
        expand(input).expect_err("invalid input").to_string()
    }

    #[test]
    fn parses_modes_branches_preconditions_and_else() {
        let out =
            expand(quote!((::corio) biased; Some(x) = f(), if ok => x, _ = g() => { 0 } else => 1))
                .expect("valid input");
        let text = out.to_string();
        assert!(text.contains("poll_fn"));
        assert!(
            !text.contains("__select :: start"),
            "biased must not rotate"
        );
        let out = expand(quote!((::corio) a = f() => a, b = g() => b)).expect("valid input");
        assert!(out
            .to_string()
            .contains(":: corio :: __select :: start (2u32)"));
        // Only `else`: its expression, nothing to poll.
        let out = expand(quote!((::corio) else => 5)).expect("valid input");
        assert!(!out.to_string().contains("poll_fn"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(error(quote!((::corio))).contains("needs at least one"));
        assert!(error(quote!((::corio) fast; a = f() => a)).contains("only mode is `biased;`"));
        assert!(error(quote!((::corio) else => 1, a = f() => a)).contains("must come last"));
        assert!(error(quote!((::corio) a => 1)).contains("expected `=` after the pattern"));
        assert!(error(quote!((::corio) a = f() 1)).contains("expected `=>`"));
        assert!(error(quote!((::corio) a = f() => a b = g() => b)).contains("expected `,`"));
    }
}
