//! Pages whose issue has not landed yet say so plainly instead of showing made-up numbers.

use leptos::prelude::*;

#[component]
pub fn ComingPage(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <section class="page coming">
            <h1>{title}</h1>
            <p class="coming-note">"Coming: " {what}</p>
        </section>
    }
}
