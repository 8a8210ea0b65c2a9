// The Google Tag Manager snippet as Google hands it out, minus the lines that load
// https://www.googletagmanager.com/gtm.js (no vendor network here): it creates window.dataLayer and
// pushes gtm.start; there is no window.gtag.
(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});})(window,document,'script','dataLayer','GTM-TEST000');
